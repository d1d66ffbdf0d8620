using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using Arca.Core.Model;
using Arca.Core.Validation;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Arca.Server.Formats.Helm;

/// <summary>
/// The fields of a chart's Chart.yaml (helm.sh/docs/topics/charts/#the-chartyaml-file). The same camelCase names are
/// used in YAML (Chart.yaml, index.yaml), in the OCI config blob that `helm push` writes, and in the version
/// properties JSON (<c>{"chart": {...}}</c>), the storage contract shared with the OCI module.
/// </summary>
public sealed partial class ChartMetadata
{
    public string? ApiVersion { get; set; }
    public string? Name { get; set; }
    public string? Version { get; set; }
    public string? KubeVersion { get; set; }
    public string? Description { get; set; }
    public string? Type { get; set; }
    public List<string>? Keywords { get; set; }
    public string? Home { get; set; }
    public List<string>? Sources { get; set; }
    public List<ChartDependency>? Dependencies { get; set; }
    public List<ChartMaintainer>? Maintainers { get; set; }
    public string? Icon { get; set; }
    public string? AppVersion { get; set; }
    public bool? Deprecated { get; set; }
    public Dictionary<string, string>? Annotations { get; set; }

    public const int MaxChartYamlBytes = 1 << 20;

    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .IgnoreUnmatchedProperties()
        .Build();

    public static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    /// <summary>Parses and validates Chart.yaml; any problem is a 400.</summary>
    public static ChartMetadata ParseYaml(string yaml)
    {
        ChartMetadata? meta;
        try { meta = Yaml.Deserialize<ChartMetadata>(yaml); }
        catch (YamlException e) { throw Invalid($"Chart.yaml is not valid YAML ({e.Message})"); }
        if (meta is null) throw Invalid("Chart.yaml is empty");
        meta.Validate();
        return meta;
    }

    /// <summary>The checks `helm lint`/`helm package` make on the fields an index depends on.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(ApiVersion)) throw Invalid("Chart.yaml has no apiVersion");
        if (ApiVersion is not ("v1" or "v2")) throw Invalid($"Chart.yaml apiVersion '{ApiVersion}' is not v1 or v2");
        if (string.IsNullOrEmpty(Name)) throw Invalid("Chart.yaml has no name");
        if (!NamePattern().IsMatch(Name)) throw Invalid($"chart name '{Printable(Name)}' is invalid: use letters, digits, '.', '_' or '-', starting with a letter or digit");
        if (string.IsNullOrEmpty(Version)) throw Invalid("Chart.yaml has no version");
        if (!SemVer2.TryParse(Version, out _)) throw Invalid($"chart version '{Printable(Version)}' is not a valid SemVer 2 version");
        if (Type is { Length: > 0 } t && t is not ("application" or "library")) throw Invalid($"chart type '{Printable(t)}' is not application or library");
    }

    [JsonIgnore, YamlIgnore]
    public string FileName => $"{Name}-{Version}.tgz";

    public static ChartMetadata? FromProperties(string? propertiesJson)
    {
        if (string.IsNullOrEmpty(propertiesJson)) return null;
        try
        {
            using var doc = JsonDocument.Parse(propertiesJson);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("chart", out var chart)
                || chart.ValueKind != JsonValueKind.Object) return null;
            return chart.Deserialize<ChartMetadata>(Json);
        }
        catch (JsonException) { return null; }
    }

    public string ToPropertiesJson() => JsonSerializer.Serialize(new Dictionary<string, object> { ["chart"] = this }, Json);

    private static string Printable(string s) => new(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());

    internal static ArcaException Invalid(string why) => ArcaException.BadRequest($"invalid chart: {why}", "INVALID_CHART");

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,249}$")]
    private static partial Regex NamePattern();
}

public sealed class ChartMaintainer
{
    public string? Name { get; set; }
    public string? Email { get; set; }
    public string? Url { get; set; }
}

public sealed class ChartDependency
{
    public string? Name { get; set; }
    public string? Version { get; set; }
    public string? Repository { get; set; }
    public string? Condition { get; set; }
    public List<string>? Tags { get; set; }
    public bool? Enabled { get; set; }
    public string? Alias { get; set; }
}
