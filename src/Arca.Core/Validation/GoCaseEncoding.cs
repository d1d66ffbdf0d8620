using System.Text;

namespace Arca.Core.Validation;

/// <summary>GOPROXY URL case encoding (go.dev/ref/mod#goproxy-protocol): an upper-case letter is written as '!' + its
/// lower case. Shared by the Go module, the CLI and migration.</summary>
public static class GoCaseEncoding
{
    public static string Encode(string value)
    {
        var sb = new StringBuilder(value.Length + 4);
        foreach (var c in value)
            if (char.IsAsciiLetterUpper(c)) sb.Append('!').Append(char.ToLowerInvariant(c));
            else sb.Append(c);
        return sb.ToString();
    }

    /// <summary>Decodes a case-encoded element; null when the encoding is invalid (upper case, or '!' not before a-z).</summary>
    public static string? Decode(string encoded)
    {
        var sb = new StringBuilder(encoded.Length);
        for (var i = 0; i < encoded.Length; i++)
        {
            var c = encoded[i];
            if (c == '!')
            {
                if (i + 1 >= encoded.Length || !char.IsAsciiLetterLower(encoded[i + 1])) return null;
                sb.Append(char.ToUpperInvariant(encoded[++i]));
            }
            else if (char.IsAsciiLetterUpper(c)) return null;
            else sb.Append(c);
        }
        return sb.ToString();
    }
}
