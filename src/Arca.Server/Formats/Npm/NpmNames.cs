using System.Text.RegularExpressions;
using Arca.Core.Model;
using Arca.Core.Validation;

namespace Arca.Server.Formats.Npm;

/// <summary>npm package names, versions and dist-tags as the npm registry accepts them.</summary>
public static partial class NpmNames
{
    public const int MaxNameLength = 214;

    // Lowercase URL-safe names, optionally scoped; no leading '.' or '_' (npm's validate-npm-package-name rules).
    [GeneratedRegex(@"^(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*$")]
    private static partial Regex NamePattern();

    // Semantic version 2.0 (npm normalizes a leading 'v' and '=' away before publishing).
    [GeneratedRegex(@"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$")]
    private static partial Regex VersionPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")]
    private static partial Regex TagPattern();

    public static string ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > MaxNameLength || !NamePattern().IsMatch(name) || name.Contains(".."))
            throw ArcaException.BadRequest($"invalid npm package name '{Printable(name)}'", "INVALID_NAME");
        return name;
    }

    /// <summary>Parses client JSON strictly: duplicate property names are an error (they would otherwise surface as an
    /// exception on first access, or let two readers see different values).</summary>
    internal static System.Text.Json.Nodes.JsonNode? ParseClientJson(ReadOnlySpan<byte> utf8) =>
        System.Text.Json.Nodes.JsonNode.Parse(utf8, documentOptions: new System.Text.Json.JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 64 });

    /// <summary>Client input echoed in an error message, with control characters neutralized.</summary>
    internal static string Printable(string? s) =>
        s is null ? "" : new string(s.Take(300).Select(c => char.IsControl(c) ? '?' : c).ToArray());

    public static bool IsVersion(string? v) => v is { Length: <= 256 } && VersionPattern().IsMatch(v);

    public static string ValidateVersion(string? version)
    {
        if (!IsVersion(version))
            throw ArcaException.BadRequest($"invalid version '{Printable(version)}': expected a semantic version such as 1.2.3", "INVALID_VERSION");
        return version!;
    }

    /// <summary>A dist-tag must not look like a version, or `npm install pkg@tag` would be ambiguous.</summary>
    public static string ValidateTag(string? tag)
    {
        if (string.IsNullOrEmpty(tag) || !TagPattern().IsMatch(tag) || IsVersion(tag) || IsVersion(tag.TrimStart('v')))
            throw ArcaException.BadRequest($"invalid dist-tag '{Printable(tag)}'", "INVALID_TAG");
        return tag;
    }

    /// <summary>The name without its scope: "@acme/util" → "util" (tarball file names use it).</summary>
    public static string Unscoped(string name) => name.StartsWith('@') ? name[(name.IndexOf('/') + 1)..] : name;

    public static string TarballFileName(string name, string version) => $"{Unscoped(name)}-{version}.tgz";

    /// <summary>Compares semantic versions by precedence (prerelease before release; build metadata ignored).</summary>
    public static int Compare(string a, string b)
    {
        static (long[] Core, string? Pre) Split(string v)
        {
            var plus = v.IndexOf('+');
            if (plus >= 0) v = v[..plus];
            var dash = v.IndexOf('-');
            var core = (dash >= 0 ? v[..dash] : v).Split('.');
            var nums = core.Select(p => long.TryParse(p, out var n) ? n : 0).ToArray();
            return (nums, dash >= 0 ? v[(dash + 1)..] : null);
        }
        var (ca, pa) = Split(a);
        var (cb, pb) = Split(b);
        for (var i = 0; i < Math.Max(ca.Length, cb.Length); i++)
        {
            var x = i < ca.Length ? ca[i] : 0;
            var y = i < cb.Length ? cb[i] : 0;
            if (x != y) return x.CompareTo(y);
        }
        if (pa is null || pb is null) return pa is null ? (pb is null ? 0 : 1) : -1;
        var ia = pa.Split('.');
        var ib = pb.Split('.');
        for (var i = 0; i < Math.Min(ia.Length, ib.Length); i++)
        {
            var na = long.TryParse(ia[i], out var xa);
            var nb = long.TryParse(ib[i], out var xb);
            var c = na && nb ? xa.CompareTo(xb) : na ? -1 : nb ? 1 : string.CompareOrdinal(ia[i], ib[i]);
            if (c != 0) return c;
        }
        return ia.Length.CompareTo(ib.Length);
    }
}
