using System.Net;
using System.Text.RegularExpressions;

namespace Arca.Migration.Sources;

/// <summary>
/// The entries of an HTML directory listing as nginx autoindex, Apache mod_autoindex, python http.server (and Nexus /
/// Artifactory browse pages) produce: every <c>&lt;a href&gt;</c> that names a direct child of the listed directory.
/// Children ending in '/' are directories. Parent links, sort links (<c>?C=N;O=D</c>) and links elsewhere are ignored.
/// </summary>
public static partial class HtmlDirectoryListing
{
    public sealed record Entry(string Name, bool IsDirectory);

    public static IEnumerable<Entry> Parse(string html, Uri directory)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (Match m in Href().Matches(html))
        {
            var href = WebUtility.HtmlDecode(m.Groups["q"].Success ? m.Groups["q"].Value : m.Groups["a"].Value);
            if (href.Length == 0 || href.StartsWith('?') || href.StartsWith('#')) continue;
            if (!Uri.TryCreate(directory, href, out var target) || target.Query.Length > 0) continue;
            if (target.Scheme != directory.Scheme || target.Authority != directory.Authority) continue;
            var dir = directory.AbsolutePath;
            var path = target.AbsolutePath;
            if (!path.StartsWith(dir, StringComparison.Ordinal) || path.Length == dir.Length) continue;
            var rest = path[dir.Length..];
            var isDirectory = rest.EndsWith('/');
            var name = Uri.UnescapeDataString(isDirectory ? rest[..^1] : rest);
            if (name.Length == 0 || name.Contains('/') || name is "." or "..") continue;
            if (seen.Add(name)) yield return new Entry(name, isDirectory);
        }
    }

    [GeneratedRegex("""<a\s[^>]*?href\s*=\s*(?:"(?<q>[^"]*)"|'(?<q>[^']*)'|(?<a>[^\s>]+))""", RegexOptions.IgnoreCase)]
    private static partial Regex Href();
}
