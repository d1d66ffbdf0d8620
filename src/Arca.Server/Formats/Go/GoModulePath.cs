using System.Text;
using Arca.Core.Model;
using Arca.Core.Validation;

namespace Arca.Server.Formats.Go;

/// <summary>Module paths and versions as the GOPROXY protocol (go.dev/ref/mod#goproxy-protocol) spells them.</summary>
public static class GoModulePath
{
    public const int MaxPathLength = 1024;

    /// <summary>Decodes a case-encoded path element ("!x" stands for "X"); null when the encoding is invalid.</summary>
    public static string? Decode(string encoded) => GoCaseEncoding.Decode(encoded);

    /// <summary>Case-encodes a module path or version for use in a proxy URL.</summary>
    public static string Encode(string value) => GoCaseEncoding.Encode(value);

    /// <summary>Checks a module path the way `go` does for paths it fetches from a proxy (module.CheckPath): slash-separated
    /// elements of letters, digits and "-._~", the first one a lower-case domain-like name containing a dot.</summary>
    public static void Validate(string? path)
    {
        if (string.IsNullOrEmpty(path) || path.Length > MaxPathLength) throw Bad(path, "it is empty or too long");
        var elements = path.Split('/');
        foreach (var e in elements)
        {
            if (e.Length == 0) throw Bad(path, "it has an empty path element");
            if (e[0] == '.' || e[^1] == '.') throw Bad(path, "a path element starts or ends with a dot");
            foreach (var c in e)
                if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~'))
                    throw Bad(path, $"it contains the character '{(char.IsControl(c) ? '?' : c)}'");
        }
        var first = elements[0];
        if (!first.Contains('.')) throw Bad(path, "the first path element has no dot (it must look like a domain name)");
        if (first[0] == '-' || first.Any(c => !(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '-' or '.')))
            throw Bad(path, "the first path element must be lower-case letters, digits, '-' and '.'");
    }

    /// <summary>A canonical module version: "v" + SemVer 2 where the only build suffix allowed is "+incompatible".</summary>
    public static SemVer2 ParseVersion(string? version)
    {
        if (version is null || version.Length < 2 || version[0] != 'v' || !SemVer2.TryParse(version[1..], out var semver)
            || (semver.Build is not null && semver.Build != "incompatible"))
            throw ArcaException.BadRequest($"invalid module version '{Printable(version)}': expected a canonical semantic version vMAJOR.MINOR.PATCH[-PRERELEASE]", "INVALID_VERSION");
        return semver;
    }

    public static bool TryParseVersion(string? version, out SemVer2 semver)
    {
        semver = null!;
        try { semver = ParseVersion(version); return true; }
        catch (ArcaException) { return false; }
    }

    /// <summary>The major-version rule (module.CheckPathMajor): a path ending in /vN (N ≥ 2) only takes vN.x.y
    /// versions; other paths take v0/v1, or vN+incompatible.</summary>
    public static void CheckMajor(string path, string version, SemVer2 semver)
    {
        if (path.StartsWith("gopkg.in/", StringComparison.Ordinal)) return; // gopkg.in uses ".vN", its own convention
        var last = path[(path.LastIndexOf('/') + 1)..];
        var suffixMajor = last.Length >= 2 && last[0] == 'v' && last[1..].All(char.IsAsciiDigit) && last[1] != '0' && path.Contains('/')
            ? ulong.Parse(last[1..]) : (ulong?)null;
        var incompatible = semver.Build == "incompatible";
        if (suffixMajor is { } n and >= 2)
        {
            if (semver.Major != n || incompatible)
                throw ArcaException.BadRequest($"version {version} does not match the major version suffix /v{n} of module {path}", "INVALID_VERSION");
        }
        else if (semver.Major >= 2 && !incompatible)
            throw ArcaException.BadRequest($"module {path} has no /v{semver.Major} suffix, so version {version} must be v0 or v1 (or +incompatible)", "INVALID_VERSION");
        else if (semver.Major < 2 && incompatible)
            throw ArcaException.BadRequest($"+incompatible is only allowed on v2 or later versions, not {version}", "INVALID_VERSION");
    }

    internal static string Printable(string? s) => s is null ? "" : new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());

    private static ArcaException Bad(string? path, string why) =>
        ArcaException.BadRequest($"invalid module path '{Printable(path)}': {why}", "INVALID_MODULE_PATH");
}
