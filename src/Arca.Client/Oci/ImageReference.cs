using System.Text.RegularExpressions;

namespace Arca.Client.Oci;

/// <summary>
/// A parsed image reference <c>host[:port]/repository[:tag][@digest]</c>. Like docker, a first segment without a
/// dot, colon or "localhost" is not a host: such references (and "docker.io") resolve to Docker Hub, where one-segment
/// names live under <c>library/</c>.
/// </summary>
public sealed partial record ImageReference(string Registry, string Repository, string? Tag, string? Digest)
{
    public const string DockerHubName = "docker.io";
    /// <summary>The host Docker Hub's API is served from.</summary>
    public const string DockerHubApiHost = "registry-1.docker.io";

    [GeneratedRegex("^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$")]
    private static partial Regex RepositoryPattern();

    [GeneratedRegex("^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex TagPattern();

    [GeneratedRegex("^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$")]
    private static partial Regex DigestPattern();

    /// <summary>Host (and port) used for HTTP requests: Docker Hub's API host for "docker.io".</summary>
    public string ApiHost => Registry == DockerHubName ? DockerHubApiHost : Registry;

    /// <summary>The tag or digest that names the manifest (digest wins); null for a bare repository.</summary>
    public string? Reference => Digest ?? Tag;

    public ImageReference WithTag(string tag) => this with { Tag = tag, Digest = null };
    public ImageReference WithDigest(string digest) => this with { Digest = digest };
    public ImageReference WithRepository(string repository) => this with { Repository = repository };

    public override string ToString() =>
        $"{Registry}/{Repository}{(Tag is null ? "" : ":" + Tag)}{(Digest is null ? "" : "@" + Digest)}";

    public static bool IsValidRepository(string repository) => repository.Length <= 255 && RepositoryPattern().IsMatch(repository);
    public static bool IsValidTag(string tag) => TagPattern().IsMatch(tag);

    /// <summary>Registered algorithms (sha256, sha512) must have their exact hex length; others the spec's general grammar.</summary>
    public static bool IsValidDigest(string digest) =>
        digest.StartsWith("sha256:", StringComparison.Ordinal) || digest.StartsWith("sha512:", StringComparison.Ordinal)
            ? Arca.Core.Model.Digest.TryParse(digest, out _)
            : DigestPattern().IsMatch(digest);

    public static ImageReference Parse(string value) =>
        TryParse(value, out var reference, out var error) ? reference : throw new FormatException(error);

    public static bool TryParse(string? value, out ImageReference reference, out string error)
    {
        reference = null!;
        error = "";
        if (string.IsNullOrWhiteSpace(value)) { error = "empty image reference"; return false; }
        var rest = value.Trim();
        foreach (var prefix in new[] { "docker://", "oci://" })
            if (rest.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)) rest = rest[prefix.Length..];

        string? digest = null;
        var at = rest.IndexOf('@');
        if (at >= 0)
        {
            digest = rest[(at + 1)..];
            rest = rest[..at];
            if (!IsValidDigest(digest)) { error = $"invalid digest '{digest}' in '{value}'"; return false; }
        }

        string? tag = null;
        var lastSlash = rest.LastIndexOf('/');
        var colon = rest.LastIndexOf(':');
        if (colon > lastSlash)
        {
            tag = rest[(colon + 1)..];
            rest = rest[..colon];
            if (!IsValidTag(tag)) { error = $"invalid tag '{tag}' in '{value}'"; return false; }
        }

        string registry;
        string repository;
        var firstSlash = rest.IndexOf('/');
        var first = firstSlash < 0 ? rest : rest[..firstSlash];
        if (firstSlash >= 0 && (first.Contains('.') || first.Contains(':') || first == "localhost" || first.Any(char.IsUpper)))
        {
            registry = first.ToLowerInvariant();
            repository = rest[(firstSlash + 1)..];
        }
        else
        {
            registry = DockerHubName;
            repository = rest;
        }
        if (registry is "index.docker.io" or DockerHubApiHost) registry = DockerHubName;
        if (registry == DockerHubName && !repository.Contains('/')) repository = "library/" + repository;
        if (!IsValidRepository(repository)) { error = $"invalid repository name '{repository}' in '{value}'"; return false; }
        reference = new ImageReference(registry, repository, tag, digest);
        return true;
    }
}
