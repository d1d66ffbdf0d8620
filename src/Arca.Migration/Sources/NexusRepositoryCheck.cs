using System.Net;
using System.Text.Json;
using Arca.Migration.Config;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>
/// Refuses, before a Nexus repository is listed, what a migration cannot take from it: the repository is looked up in
/// <c>GET /service/rest/v1/repositories</c> (a plain array of <c>{name, format, type: hosted|proxy|group, url,
/// attributes}</c>, read once per run). Proxy repositories are caches of another registry and groups are views over
/// other repositories (their members are named, from <c>GET /service/rest/v1/repositories/&lt;format&gt;/group/&lt;name&gt;</c>
/// <c>group.memberNames</c>, when readable); the Nexus format must fit the artifact type; an unknown name is named as
/// such. GO is always refused: Nexus 3 supports Go only as proxy and group repositories (Sonatype's "Go Repositories"
/// documentation), so there is no hosted Go content to migrate. A user without the right to read the repository
/// configuration gets 403 there: the check is then skipped and the listing itself says what is wrong.
/// </summary>
internal sealed class NexusRepositoryCheck(HttpClient http)
{
    /// <summary>The Nexus repository format each artifact type is migrated from.</summary>
    internal static readonly IReadOnlyDictionary<string, string> FormatFor = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["GENERIC"] = "raw", ["MAVEN"] = "maven2", ["NPM"] = "npm", ["PYTHON"] = "pypi", ["DOCKER"] = "docker", ["HELM"] = "docker",
        ["NUGET"] = "nuget", ["HELM_LEGACY"] = "helm",
    };

    private sealed record NexusRepository(string Name, string Format, string Type, string? RemoteUrl);

    private Task<List<NexusRepository>?>? _repositories;

    public async Task CheckAsync(string artifactType, string repository, CancellationToken ct)
    {
        if (artifactType == "GO")
            throw new ConfigException($"GO cannot be migrated from Nexus: Nexus Repository 3 has no hosted Go repositories (Go is proxy and group only), " +
                $"so {repository} can only hold a cache of another Go proxy; migrate the modules from their origin instead");
        var all = await (_repositories ??= LoadAsync(ct));
        if (all is null) return; // no right to read the configuration: proceed without the check
        var found = all.FirstOrDefault(r => r.Name == repository)
            ?? throw new ConfigException($"the Nexus source has no repository named {repository} (or this user may not browse it); " +
                $"repositories: {string.Join(", ", all.Select(r => $"{r.Name} ({r.Format} {r.Type})").Take(50))}");
        var wanted = FormatFor.GetValueOrDefault(artifactType);
        if (found.Type == "proxy")
            throw new ConfigException($"{repository} is a proxy repository{(found.RemoteUrl is null ? "" : $" of {found.RemoteUrl}")}: its content is a cache of another " +
                "registry, not its own; migrate from that registry, or from a hosted repository");
        if (found.Type == "group")
        {
            var members = await GroupMembersAsync(found, ct);
            throw new ConfigException($"{repository} is a group repository: it only combines other repositories; migrate its hosted members instead" +
                (members is { Count: > 0 } ? $" (members: {string.Join(", ", members)})" : ""));
        }
        if (wanted is not null && found.Format != wanted)
        {
            var fits = FormatFor.Where(f => f.Value == found.Format).Select(f => f.Key).ToList();
            throw new ConfigException($"{repository} is a {found.Format} repository, but artifact type {artifactType} is migrated from a {wanted} repository" +
                (fits.Count > 0 ? $" (a {found.Format} repository migrates as {string.Join(" or ", fits)})" : ""));
        }
    }

    private async Task<List<NexusRepository>?> LoadAsync(CancellationToken ct)
    {
        using var response = await http.GetAsync("service/rest/v1/repositories", ct);
        // 403: a user without the right to read repository configuration. 404: a server without this API.
        if (response.StatusCode is HttpStatusCode.Forbidden or HttpStatusCode.NotFound) return null;
        await MigrationHttp.EnsureSuccessAsync(response, "GET /service/rest/v1/repositories", ct);
        using var doc = JsonDocument.Parse(await NativeSources.ReadBoundedStringAsync(response, ct));
        if (doc.RootElement.ValueKind != JsonValueKind.Array)
            throw new InvalidDataException("GET /service/rest/v1/repositories: expected a JSON array of repositories");
        return doc.RootElement.EnumerateArray()
            .Where(r => Str(r, "name") is not null)
            .Select(r => new NexusRepository(Str(r, "name")!, Str(r, "format") ?? "", Str(r, "type") ?? "",
                r.TryGetProperty("attributes", out var a) && a.ValueKind == JsonValueKind.Object && a.TryGetProperty("proxy", out var p) ? Str(p, "remoteUrl") : null))
            .ToList();
    }

    /// <summary>The group's members, or null when the detail endpoint cannot be read (it needs more rights than the list).</summary>
    private async Task<List<string>?> GroupMembersAsync(NexusRepository group, CancellationToken ct)
    {
        try
        {
            using var response = await http.GetAsync($"service/rest/v1/repositories/{Uri.EscapeDataString(group.Format)}/group/{Uri.EscapeDataString(group.Name)}", ct);
            if (!response.IsSuccessStatusCode) return null;
            using var doc = JsonDocument.Parse(await NativeSources.ReadBoundedStringAsync(response, ct));
            return doc.RootElement.TryGetProperty("group", out var g) && g.ValueKind == JsonValueKind.Object
                && g.TryGetProperty("memberNames", out var names) && names.ValueKind == JsonValueKind.Array
                ? names.EnumerateArray().Where(n => n.ValueKind == JsonValueKind.String).Select(n => n.GetString()!).ToList()
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or IOException) { return null; }
    }

    private static string? Str(JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
