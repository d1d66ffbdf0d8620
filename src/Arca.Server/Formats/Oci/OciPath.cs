using System.Text.RegularExpressions;
using Arca.Core.Validation;

namespace Arca.Server.Formats.Oci;

public enum OciRouteKind { Manifest, Blob, Upload, Tags, Referrers }

/// <summary>A parsed <c>/v2/&lt;registry&gt;/&lt;repository...&gt;/&lt;endpoint&gt;</c> path. <see cref="Name"/> is
/// the name the client uses (<c>registry/repository</c>).</summary>
public sealed record OciRoute(OciRouteKind Kind, string Registry, string Repository, string? Argument)
{
    public string Name => $"{Registry}/{Repository}";
}

public static partial class OciPath
{
    /// <summary>Repository path components, per the distribution spec's name grammar.</summary>
    [GeneratedRegex("^[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\\.|_|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex("^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$")]
    private static partial Regex TagPattern();

    public static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    public static bool IsValidRepository(string repository) => repository.Length <= 255 && RepositoryPattern().IsMatch(repository);

    /// <summary>Splits a request path into route kind, registry, repository and argument (reference, digest or
    /// upload id). Names are not validated here (see <see cref="Validate"/>).</summary>
    public static bool TryParse(string path, out OciRoute route)
    {
        route = null!;
        if (!path.StartsWith("/v2/", StringComparison.Ordinal)) return false;
        var s = path[4..].Split('/');
        var n = s.Length;
        OciRouteKind kind;
        string? arg;
        int nameEnd; // exclusive index of the last name segment
        if (n >= 4 && s[n - 2] == "tags" && s[n - 1] == "list") { kind = OciRouteKind.Tags; arg = null; nameEnd = n - 2; }
        else if (n >= 5 && s[n - 3] == "blobs" && s[n - 2] == "uploads") { kind = OciRouteKind.Upload; arg = s[n - 1]; nameEnd = n - 3; }
        else if (n >= 4 && s[n - 2] == "blobs" && s[n - 1] == "uploads") { kind = OciRouteKind.Upload; arg = ""; nameEnd = n - 2; }
        else if (n >= 4 && s[n - 2] == "manifests") { kind = OciRouteKind.Manifest; arg = s[n - 1]; nameEnd = n - 2; }
        else if (n >= 4 && s[n - 2] == "blobs") { kind = OciRouteKind.Blob; arg = s[n - 1]; nameEnd = n - 2; }
        else if (n >= 4 && s[n - 2] == "referrers") { kind = OciRouteKind.Referrers; arg = s[n - 1]; nameEnd = n - 2; }
        else return false;
        if (nameEnd < 2) return false;
        route = new OciRoute(kind, s[0], string.Join('/', s[1..nameEnd]), arg);
        return true;
    }

    /// <summary>Splits a client-side name <c>registry/repository</c> (e.g. the <c>from</c> of a mount).</summary>
    public static bool TrySplitName(string? name, out string registry, out string repository)
    {
        registry = repository = "";
        if (string.IsNullOrEmpty(name)) return false;
        var i = name.IndexOf('/');
        if (i <= 0 || i == name.Length - 1) return false;
        registry = name[..i];
        repository = name[(i + 1)..];
        return Identifiers.IsValidRegistryName(registry) && IsValidRepository(repository);
    }

    public static void Validate(OciRoute route)
    {
        if (!Identifiers.IsValidRegistryName(route.Registry))
            throw OciErrors.NameInvalid($"invalid registry '{route.Registry}' in repository name");
        if (!IsValidRepository(route.Repository))
            throw OciErrors.NameInvalid($"invalid repository name '{route.Repository}'");
    }
}
