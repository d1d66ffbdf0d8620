using System.Text;
using System.Text.RegularExpressions;

namespace Arca.Migration.Config;

/// <summary>Include/exclude patterns: <c>*</c> matches within one path segment, <c>**</c> across segments, <c>?</c> one character.</summary>
public sealed class Glob
{
    private readonly Regex _regex;
    public string Pattern { get; }

    public Glob(string pattern)
    {
        Pattern = pattern;
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '*' && i + 1 < pattern.Length && pattern[i + 1] == '*')
            {
                i++;
                // "a/**/b" also matches "a/b"
                if (i + 1 < pattern.Length && pattern[i + 1] == '/') { sb.Append("(?:.*/)?"); i++; }
                else sb.Append(".*");
            }
            else if (c == '*') sb.Append("[^/]*");
            else if (c == '?') sb.Append("[^/]");
            else sb.Append(Regex.Escape(c.ToString()));
        }
        _regex = new Regex(sb.Append('$').ToString(), RegexOptions.CultureInvariant);
    }

    public bool IsMatch(string name) => _regex.IsMatch(name);
}
