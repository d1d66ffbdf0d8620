using System.Text;
using System.Text.RegularExpressions;
using Arca.Core.Model;

namespace Arca.Server.Replication;

/// <summary>Name filters and the destination naming of replication rules (Harbor's semantics).</summary>
public static class ReplicationPatterns
{
    public const int MaxFilterLength = 256;

    /// <summary>
    /// A repository or tag glob as a regex: <c>**</c> matches anything (across '/'), <c>*</c> anything within one path
    /// segment, <c>?</c> one character other than '/'. Everything else is literal.
    /// </summary>
    public static Regex Compile(string glob)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            if (c == '*' && i + 1 < glob.Length && glob[i + 1] == '*')
            {
                i++;
                // "a/**/b" also matches "a/b"
                if (i + 1 < glob.Length && glob[i + 1] == '/') { sb.Append("(?:.*/)?"); i++; }
                else sb.Append(".*");
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(Regex.Escape(c.ToString()));
        }
        return new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
    }

    public static bool HasWildcards(string glob) => glob.IndexOfAny(['*', '?']) >= 0;

    public static void ValidateFilter(string? glob, string what, bool required)
    {
        if (string.IsNullOrEmpty(glob))
        {
            if (required) throw ArcaException.BadRequest($"{what} is required", "INVALID_FILTER");
            return;
        }
        if (glob.Length > MaxFilterLength || glob.Any(c => char.IsControl(c) || char.IsWhiteSpace(c)))
            throw ArcaException.BadRequest($"invalid {what} '{glob}': at most {MaxFilterLength} characters, no spaces", "INVALID_FILTER");
    }

    /// <summary>
    /// Harbor's destination namespace replacement. With repository a/b/c and namespace n:
    /// -1 (legacy) → n/c, 0 → n/a/b/c, 1 → n/b/c, 2 → n/c, 3 → n; a count beyond the segments is an error.
    /// Without a namespace the repository keeps its name.
    /// </summary>
    public static string ReplaceNamespace(string repository, string? destinationNamespace, int replaceCount)
    {
        if (string.IsNullOrEmpty(destinationNamespace)) return repository;
        var segments = repository.Split('/');
        if (replaceCount < 0) return $"{destinationNamespace}/{segments[^1]}";
        if (replaceCount == 0) return $"{destinationNamespace}/{repository}";
        if (replaceCount == segments.Length) return destinationNamespace;
        if (replaceCount > segments.Length)
            throw ArcaException.BadRequest(
                $"the repository {repository} has only {segments.Length} segment(s), but the destination namespace replace count is {replaceCount}",
                "INVALID_NAMESPACE_REPLACE_COUNT");
        return $"{destinationNamespace}/{string.Join('/', segments[replaceCount..])}";
    }
}
