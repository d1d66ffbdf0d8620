using System.Text.RegularExpressions;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Arca.Migration.Config;

/// <summary>A config problem, with the file, line and field it is about.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Reads the migration YAML with line numbers kept, so every validation error names the line and the field.
/// <c>${VAR}</c> is replaced from the environment in every scalar; an unset variable is an error, never "".
/// </summary>
public static partial class ConfigLoader
{
    [GeneratedRegex(@"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")]
    private static partial Regex VariablePattern();

    public static MigrationConfig Load(string path, Func<string, string?>? env = null)
    {
        if (!File.Exists(path)) throw new ConfigException($"{path}: file not found");
        return Parse(File.ReadAllText(path), path, env);
    }

    public static MigrationConfig Parse(string yaml, string fileName = "config", Func<string, string?>? env = null)
    {
        env ??= Environment.GetEnvironmentVariable;
        var errors = new List<string>();
        // ${VAR} is not valid YAML inside flow mappings ({ password: ${TOKEN} }, as hc configs write it), so each
        // reference becomes a YAML-safe placeholder first and is resolved per scalar, where line and field are known.
        var names = new List<string>();
        yaml = VariablePattern().Replace(yaml, m => { names.Add(m.Groups[1].Value); return $"{PlaceholderPrefix}{names.Count - 1}{PlaceholderSuffix}"; });
        var stream = new YamlStream();
        try { stream.Load(new StringReader(yaml)); }
        catch (YamlException e) { throw new ConfigException($"{fileName}:{e.Start.Line}: invalid YAML: {e.InnerException?.Message ?? e.Message}"); }
        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
            throw new ConfigException($"{fileName}: expected a YAML mapping at the top level");

        var r = new Reader(fileName, env, errors, names);
        r.CheckKeys(root, "", ["version", "concurrency", "overwrite", "dryRun", "summary", "createRegistries", "stateFile", "itemTimeout", "retries", "source", "destination", "mappings"]);
        var source = r.Endpoint(root, "source", KnownTypes.Sources);
        var destination = r.Endpoint(root, "destination", KnownTypes.Destinations);
        var mappings = new List<MappingConfig>();
        if (r.Child(root, "mappings") is YamlSequenceNode seq)
        {
            var i = 0;
            foreach (var node in seq)
            {
                var where = $"mappings[{i}]";
                if (node is not YamlMappingNode m) { r.Error(node, where, "expected a mapping"); i++; continue; }
                r.CheckKeys(m, where + ".", ["artifactType", "sourceRegistry", "destinationRegistry", "includePatterns", "excludePatterns", "sourcePackageHostname"]);
                var type = r.Str(m, "artifactType", where, required: true)?.ToUpperInvariant();
                if (type is not null && !KnownTypes.ArtifactTypes.Contains(type))
                    r.Error(r.Child(m, "artifactType")!, $"{where}.artifactType", $"unknown artifact type '{type}' (one of {string.Join(", ", KnownTypes.ArtifactTypes)})");
                var dest = r.Str(m, "destinationRegistry", where, required: true);
                if (dest is not null && !Arca.Core.Validation.Identifiers.IsValidRegistryName(dest))
                    r.Error(r.Child(m, "destinationRegistry")!, $"{where}.destinationRegistry", $"'{dest}' is not a valid registry identifier");
                mappings.Add(new MappingConfig
                {
                    Index = i, ArtifactType = type ?? "", DestinationRegistry = dest ?? "",
                    SourceRegistry = r.Str(m, "sourceRegistry", where) ?? "",
                    IncludePatterns = r.StrList(m, "includePatterns", where), ExcludePatterns = r.StrList(m, "excludePatterns", where),
                    SourcePackageHostname = r.Str(m, "sourcePackageHostname", where),
                });
                i++;
            }
            if (i == 0) r.Error(seq, "mappings", "at least one mapping is required");
        }
        else if (r.Child(root, "mappings") is { } other) r.Error(other, "mappings", "expected a list");
        else errors.Add($"{fileName}: mappings: required");

        var concurrency = r.Int(root, "concurrency", "") ?? 5;
        if (concurrency is < 1 or > 256) r.Error(r.Child(root, "concurrency")!, "concurrency", "must be between 1 and 256");
        var retries = r.Int(root, "retries", "") ?? 4;
        if (retries is < 0 or > 20) r.Error(r.Child(root, "retries")!, "retries", "must be between 0 and 20");
        var timeout = r.Str(root, "itemTimeout", "");
        TimeSpan itemTimeout = TimeSpan.FromMinutes(30);
        if (timeout is not null && !TryParseDuration(timeout, out itemTimeout)) r.Error(r.Child(root, "itemTimeout")!, "itemTimeout", $"invalid duration '{timeout}' (e.g. 30m, 2h)");

        var config = new MigrationConfig
        {
            Version = r.Str(root, "version", "") ?? "1.0.0",
            Concurrency = concurrency, Retries = retries, ItemTimeout = itemTimeout,
            Overwrite = r.Bool(root, "overwrite", "") ?? false,
            DryRun = r.Bool(root, "dryRun", "") ?? false,
            Summary = r.Bool(root, "summary", "") ?? true,
            CreateRegistries = r.Bool(root, "createRegistries", "") ?? false,
            StateFile = r.Str(root, "stateFile", ""),
            Source = source!, Destination = destination!, Mappings = mappings,
        };
        if (errors.Count > 0) throw new ConfigException(string.Join(Environment.NewLine, errors));
        return config;
    }

    internal static bool TryParseDuration(string text, out TimeSpan value)
    {
        value = default;
        var t = text.Trim().ToLowerInvariant();
        if (t.Length < 2 || !double.TryParse(t[..^1], System.Globalization.CultureInfo.InvariantCulture, out var n) || n <= 0) return false;
        value = t[^1] switch { 's' => TimeSpan.FromSeconds(n), 'm' => TimeSpan.FromMinutes(n), 'h' => TimeSpan.FromHours(n), _ => default };
        return value != default;
    }

    private const string PlaceholderPrefix = "ARCAVARx";
    private const string PlaceholderSuffix = "xARCAVAR";

    [GeneratedRegex("ARCAVARx([0-9]+)xARCAVAR")]
    private static partial Regex PlaceholderPattern();

    [GeneratedRegex("^[a-z]{2}(-[a-z]+)+-[0-9]+$")]
    private static partial Regex AwsRegionPattern();

    private sealed class Reader(string file, Func<string, string?> env, List<string> errors, List<string> names)
    {
        public void Error(YamlNode node, string field, string message) => errors.Add($"{file}:{node.Start.Line}: {field}: {message}");

        public YamlNode? Child(YamlMappingNode m, string key) =>
            m.Children.FirstOrDefault(kv => kv.Key is YamlScalarNode s && s.Value == key).Value;

        public void CheckKeys(YamlMappingNode m, string prefix, string[] allowed)
        {
            foreach (var key in m.Children.Keys.OfType<YamlScalarNode>())
                if (!allowed.Contains(key.Value))
                    Error(key, prefix + key.Value, $"unknown field (known: {string.Join(", ", allowed)})");
        }

        public string? Str(YamlMappingNode m, string key, string where, bool required = false)
        {
            var field = where.Length == 0 ? key : $"{where}.{key}";
            switch (Child(m, key))
            {
                case null:
                    if (required) errors.Add($"{file}:{m.Start.Line}: {field}: required");
                    return null;
                case YamlScalarNode s:
                    var value = Expand(s, field);
                    if (required && string.IsNullOrWhiteSpace(value)) { Error(s, field, "must not be empty"); return null; }
                    return value;
                case var other:
                    Error(other, field, "expected a single value");
                    return null;
            }
        }

        private string? Expand(YamlScalarNode s, string field)
        {
            if (s.Value is null) return null;
            return PlaceholderPattern().Replace(s.Value, match =>
            {
                var name = names[int.Parse(match.Groups[1].Value)];
                var v = env(name);
                if (v is null) { Error(s, field, $"environment variable ${{{name}}} is not set"); return ""; }
                return v;
            });
        }

        public int? Int(YamlMappingNode m, string key, string where)
        {
            var text = Str(m, key, where);
            if (text is null) return null;
            if (int.TryParse(text, out var n)) return n;
            Error(Child(m, key)!, key, $"'{text}' is not a whole number");
            return null;
        }

        public bool? Bool(YamlMappingNode m, string key, string where)
        {
            var text = Str(m, key, where);
            if (text is null) return null;
            if (bool.TryParse(text, out var b)) return b;
            Error(Child(m, key)!, where.Length == 0 ? key : $"{where}.{key}", $"'{text}' is not true or false");
            return null;
        }

        public IReadOnlyList<string> StrList(YamlMappingNode m, string key, string where)
        {
            var field = $"{where}.{key}";
            switch (Child(m, key))
            {
                case null: return [];
                case YamlSequenceNode seq:
                    var list = new List<string>();
                    foreach (var item in seq)
                        if (item is YamlScalarNode s && Expand(s, field) is { Length: > 0 } v) list.Add(v);
                        else Error(item, field, "expected a non-empty string pattern");
                    return list;
                case YamlScalarNode single when Expand(single, field) is { Length: > 0 } one: return [one];
                case var other: Error(other, field, "expected a list of patterns"); return [];
            }
        }

        public EndpointConfig? Endpoint(YamlMappingNode root, string key, IReadOnlyList<string> types)
        {
            if (Child(root, key) is not YamlMappingNode m)
            {
                if (Child(root, key) is { } bad) Error(bad, key, "expected a mapping"); else errors.Add($"{file}: {key}: required");
                return null;
            }
            CheckKeys(m, key + ".", ["endpoint", "type", "credentials", "insecure", "awsRegion"]);
            var endpoint = Str(m, "endpoint", key, required: true);
            if (endpoint is not null && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")))
                Error(Child(m, "endpoint")!, $"{key}.endpoint", $"'{endpoint}' is not an http(s) URL");
            var type = Str(m, "type", key, required: true)?.ToUpperInvariant();
            if (type is not null && !types.Contains(type))
                Error(Child(m, "type")!, $"{key}.type", $"unknown type '{type}' (one of {string.Join(", ", types)})");
            string? user = null, password = null;
            if (Child(m, "credentials") is YamlMappingNode creds)
            {
                CheckKeys(creds, key + ".credentials.", ["username", "password"]);
                user = Str(creds, "username", $"{key}.credentials");
                password = Str(creds, "password", $"{key}.credentials");
            }
            else if (Child(m, "credentials") is { } other) Error(other, $"{key}.credentials", "expected { username, password }");
            // Extension: AWS ECR authentication for a DOCKER_REGISTRY source on any host (ECR hosts get it by name).
            var awsRegion = Str(m, "awsRegion", key);
            if (awsRegion is not null)
            {
                var node = Child(m, "awsRegion")!;
                if (key != "source" || type != "DOCKER_REGISTRY")
                    Error(node, $"{key}.awsRegion", "only a DOCKER_REGISTRY source authenticates with AWS ECR");
                else if (!AwsRegionPattern().IsMatch(awsRegion))
                    Error(node, $"{key}.awsRegion", $"'{awsRegion}' is not an AWS region (e.g. us-east-1)");
            }
            return new EndpointConfig
            {
                Endpoint = endpoint ?? "", Type = type == "HAR" ? "ARCA" : type ?? "", Username = user, Password = password,
                Insecure = Bool(m, "insecure", key) ?? false, AwsRegion = awsRegion,
            };
        }
    }
}
