using Arca.Core.Model;

namespace Arca.Core.Validation;

/// <summary>
/// Validates relative file paths that come from clients (URLs, archives, multipart names).
/// A path that could escape its version or the data directory is refused, never "cleaned".
/// </summary>
public static class PathValidator
{
    public const int MaxLength = 1024;

    public static string Validate(string? path, string what = "file path")
    {
        if (string.IsNullOrEmpty(path)) throw Bad(what, path, "it is empty");
        if (path.Length > MaxLength) throw Bad(what, path, $"it is longer than {MaxLength} characters");
        if (path[0] == '/' ) throw Bad(what, path, "absolute paths are not allowed");
        if (path.Contains('\\')) throw Bad(what, path, "backslashes are not allowed");
        if (path.Length >= 2 && path[1] == ':') throw Bad(what, path, "drive letters are not allowed");
        foreach (var c in path)
            if (char.IsControl(c)) throw Bad(what, path, "control characters (including NUL) are not allowed");
        if (path.Contains('%')) throw Bad(what, path, "percent-encoded characters are not allowed after decoding");
        foreach (var segment in path.Split('/'))
        {
            if (segment.Length == 0) throw Bad(what, path, "empty path segments are not allowed");
            if (segment is "." or "..") throw Bad(what, path, "'.' and '..' segments are not allowed");
            if (segment.Length > 255) throw Bad(what, path, "a path segment is longer than 255 characters");
        }
        return path;
    }

    private static ArcaException Bad(string what, string? path, string why) =>
        ArcaException.BadRequest($"invalid {what} '{Identifiers.Printable(path)}': {why}", "INVALID_PATH");
}
