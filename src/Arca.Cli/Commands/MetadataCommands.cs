using System.CommandLine;
using System.Text.Json;
using Arca.Client;

namespace Arca.Cli.Commands;

/// <summary>`metadata set|get|delete` for registries (reg metadata) and packages/versions (art metadata).</summary>
public static class MetadataCommands
{
    public static Command Create(bool forArtifact)
    {
        var cmd = new Command("metadata", forArtifact ? "Key:value metadata of a package or version" : "Key:value metadata of a registry");
        var registry = new Option<string>("--registry") { Description = "Registry", Required = true };
        var package = new Option<string?>("--package") { Description = "Package", Required = forArtifact };
        var version = new Option<string?>("--version") { Description = "Version (omit for package-level metadata)" };
        var metadata = new Option<string?>("--metadata") { Description = "key:value pairs, comma-separated (\"k:v,k2:v2\"); for delete, keys to remove (all when omitted)" };

        Command Sub(string name, string description, Func<ArcaApiClient, string, string?, CancellationToken, Task<JsonElement>> call, bool needsMetadata)
        {
            var c = new Command(name, description) { registry, metadata };
            if (forArtifact) { c.Options.Add(package); c.Options.Add(version); }
            c.SetAction(Run.Action(async (parse, ctx, ct) =>
            {
                var text = parse.GetValue(metadata);
                if (needsMetadata && string.IsNullOrWhiteSpace(text)) throw new CliUsageException("--metadata \"key:value,...\" is required");
                var path = $"api/v1/registries/{ArcaApiClient.Q(parse.GetValue(registry)!)}/metadata?"
                    + RegistryCommands.Param("package", forArtifact ? parse.GetValue(package) : null).TrimStart('&')
                    + RegistryCommands.Param("version", forArtifact ? parse.GetValue(version) : null);
                using var client = ctx.CreateClient();
                var result = await call(client, path, text, ct);
                var rows = JsonSerializer.SerializeToElement(result.GetProperty("metadata").EnumerateObject().Select(p => new { key = p.Name, value = p.Value.GetString() }));
                ctx.Output.Print(result, rows, ("KEY", e => e.GetProperty("key").GetString()), ("VALUE", e => e.GetProperty("value").GetString()));
                return 0;
            }));
            return c;
        }

        cmd.Subcommands.Add(Sub("set", "Set key:value pairs (existing keys are replaced)", (c, p, t, ct) => c.PutAsync(p, new { text = t }, ct), true));
        cmd.Subcommands.Add(Sub("get", "Show metadata", (c, p, t, ct) => c.GetAsync(p, ct), false));
        cmd.Subcommands.Add(Sub("delete", "Remove keys (--metadata \"k1,k2\" or \"k1:v1\"), or all metadata when --metadata is omitted",
            (c, p, t, ct) => c.DeleteAsync(p + RegistryCommands.Param("keys", t), ct), false));
        return cmd;
    }
}
