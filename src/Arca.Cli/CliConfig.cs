using System.Text.Json;

namespace Arca.Cli;

/// <summary>Where `arca login` saves the server and token: $ARCA_CONFIG_DIR, else $XDG_CONFIG_HOME/arca, else ~/.config/arca.</summary>
public sealed record CliConfig(string? Server, string? Token)
{
    public static string Directory =>
        Environment.GetEnvironmentVariable("ARCA_CONFIG_DIR") is { Length: > 0 } d ? d
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CONFIG_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".config"), "arca");

    public static string FilePath => Path.Combine(Directory, "config.json");

    public static CliConfig Load()
    {
        try
        {
            return File.Exists(FilePath) ? JsonSerializer.Deserialize<CliConfig>(File.ReadAllText(FilePath)) ?? new(null, null) : new(null, null);
        }
        catch (JsonException) { return new(null, null); }
    }

    public void Save()
    {
        System.IO.Directory.CreateDirectory(Directory);
        var tmp = FilePath + ".tmp";
        File.WriteAllText(tmp, JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(tmp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(tmp, FilePath, overwrite: true);
    }

    public static void Delete()
    {
        if (File.Exists(FilePath)) File.Delete(FilePath);
    }
}
