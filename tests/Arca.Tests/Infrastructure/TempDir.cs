namespace Arca.Tests.Infrastructure;

public static class TempDir
{
    public static string Create(string prefix)
    {
        var dir = Path.Combine(Path.GetTempPath(), "arca-tests", $"{prefix}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    public static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}
