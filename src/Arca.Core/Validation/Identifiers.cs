using System.Text.RegularExpressions;
using Arca.Core.Model;

namespace Arca.Core.Validation;

public static partial class Identifiers
{
    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{1,62}$")]
    private static partial Regex RegistryPattern();

    /// <summary>Generic package names and versions: one path segment of safe characters.</summary>
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+~-]{0,254}$")]
    private static partial Regex SegmentPattern();

    [GeneratedRegex("^[A-Za-z0-9_.-]{1,128}$")]
    private static partial Regex MetadataKeyPattern();

    public static void ValidateRegistryName(string? name)
    {
        if (string.IsNullOrEmpty(name) || !RegistryPattern().IsMatch(name))
            throw ArcaException.BadRequest(
                $"invalid registry identifier '{name}': use 2-63 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit",
                "INVALID_IDENTIFIER");
    }

    public static bool IsValidRegistryName(string? name) => name is not null && RegistryPattern().IsMatch(name);

    public static void ValidateSegment(string? value, string what)
    {
        if (string.IsNullOrEmpty(value) || !SegmentPattern().IsMatch(value) || value is "." or ".." || value.Contains(".."))
            throw ArcaException.BadRequest(
                $"invalid {what} '{Printable(value)}': use letters, digits, '.', '_', '+', '~' or '-', starting with a letter or digit",
                "INVALID_IDENTIFIER");
    }

    public static void ValidateMetadataKey(string key)
    {
        if (!MetadataKeyPattern().IsMatch(key))
            throw ArcaException.BadRequest($"invalid metadata key '{Printable(key)}': use 1-128 characters A-Z, a-z, 0-9, '_', '.' or '-'", "INVALID_METADATA");
    }

    /// <summary>Parses "k:v,k:v" (the hc --metadata syntax). Values may contain ':' after the first one.</summary>
    public static Dictionary<string, string> ParseMetadata(string? text)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (string.IsNullOrWhiteSpace(text)) return result;
        foreach (var part in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var i = part.IndexOf(':');
            if (i <= 0) throw ArcaException.BadRequest($"invalid metadata entry '{Printable(part)}': expected key:value", "INVALID_METADATA");
            var key = part[..i].Trim();
            ValidateMetadataKey(key);
            result[key] = part[(i + 1)..].Trim();
        }
        return result;
    }

    internal static string Printable(string? s) =>
        s is null ? "" : new string(s.Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
