namespace Arca.Core.Validation;

/// <summary>A Semantic Versioning 2.0.0 version (semver.org): MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], strict
/// (no leading zeros, no empty identifiers). Ordered by SemVer precedence; build metadata is ignored when comparing.</summary>
public sealed class SemVer2 : IComparable<SemVer2>
{
    public ulong Major { get; }
    public ulong Minor { get; }
    public ulong Patch { get; }
    public IReadOnlyList<string> PreRelease { get; }
    public string? Build { get; }
    public bool IsPreRelease => PreRelease.Count > 0;

    private SemVer2(ulong major, ulong minor, ulong patch, IReadOnlyList<string> pre, string? build)
    {
        Major = major; Minor = minor; Patch = patch; PreRelease = pre; Build = build;
    }

    public static bool TryParse(string? text, out SemVer2 version)
    {
        version = null!;
        if (string.IsNullOrEmpty(text) || text.Length > 256) return false;
        string? build = null;
        var plus = text.IndexOf('+');
        if (plus >= 0)
        {
            build = text[(plus + 1)..];
            if (!ValidIdentifiers(build, numericRules: false)) return false;
            text = text[..plus];
        }
        IReadOnlyList<string> pre = [];
        var dash = text.IndexOf('-');
        if (dash >= 0)
        {
            var preText = text[(dash + 1)..];
            if (!ValidIdentifiers(preText, numericRules: true)) return false;
            pre = preText.Split('.');
            text = text[..dash];
        }
        var core = text.Split('.');
        if (core.Length != 3) return false;
        if (!TryNumber(core[0], out var major) || !TryNumber(core[1], out var minor) || !TryNumber(core[2], out var patch)) return false;
        version = new SemVer2(major, minor, patch, pre, build);
        return true;
    }

    private static bool TryNumber(string s, out ulong n)
    {
        n = 0;
        if (s.Length == 0 || (s.Length > 1 && s[0] == '0') || !s.All(char.IsAsciiDigit)) return false;
        return ulong.TryParse(s, out n);
    }

    private static bool ValidIdentifiers(string text, bool numericRules)
    {
        foreach (var id in text.Split('.'))
        {
            if (id.Length == 0 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-')) return false;
            if (numericRules && id.Length > 1 && id[0] == '0' && id.All(char.IsAsciiDigit)) return false;
        }
        return true;
    }

    public int CompareTo(SemVer2? other)
    {
        if (other is null) return 1;
        var c = Major.CompareTo(other.Major);
        if (c == 0) c = Minor.CompareTo(other.Minor);
        if (c == 0) c = Patch.CompareTo(other.Patch);
        if (c != 0) return c;
        // A pre-release sorts before the release it precedes.
        if (PreRelease.Count == 0 || other.PreRelease.Count == 0)
            return (PreRelease.Count == 0, other.PreRelease.Count == 0) switch { (true, true) => 0, (true, false) => 1, _ => -1 };
        for (var i = 0; i < Math.Min(PreRelease.Count, other.PreRelease.Count); i++)
        {
            var a = PreRelease[i];
            var b = other.PreRelease[i];
            var aNum = a.All(char.IsAsciiDigit);
            var bNum = b.All(char.IsAsciiDigit);
            c = (aNum, bNum) switch
            {
                (true, true) => a.Length != b.Length ? a.Length.CompareTo(b.Length) : string.CompareOrdinal(a, b),
                (true, false) => -1,
                (false, true) => 1,
                _ => string.CompareOrdinal(a, b),
            };
            if (c != 0) return Math.Sign(c);
        }
        return PreRelease.Count.CompareTo(other.PreRelease.Count);
    }

    public override string ToString() =>
        $"{Major}.{Minor}.{Patch}" + (PreRelease.Count > 0 ? "-" + string.Join('.', PreRelease) : "") + (Build is null ? "" : "+" + Build);
}
