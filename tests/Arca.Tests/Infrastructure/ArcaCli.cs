namespace Arca.Tests.Infrastructure;

/// <summary>Runs the real `arca` executable (built next to the tests) as a separate process.</summary>
public static class ArcaCli
{
    public static string DllPath => Path.Combine(AppContext.BaseDirectory, "arca.dll");

    public static Task<ProcResult> RunAsync(TestServer server, params string[] args) =>
        RunAsync(server.BaseUrl, server.AdminToken, args);

    public static Task<ProcResult> RunAsync(string? serverUrl, string? token, IEnumerable<string> args,
        string? workDir = null, IDictionary<string, string?>? extraEnv = null, TimeSpan? timeout = null)
    {
        var env = new Dictionary<string, string?>
        {
            ["ARCA_SERVER"] = serverUrl,
            ["ARCA_TOKEN"] = token,
            // isolate from the user's saved login
            ["ARCA_CONFIG_DIR"] = extraEnv?.TryGetValue("ARCA_CONFIG_DIR", out var d) == true ? d : TempDir.Create("arca-config"),
            ["NO_COLOR"] = "1",
        };
        if (extraEnv is not null) foreach (var (k, v) in extraEnv) env[k] = v;
        return Proc.RunAsync("dotnet", [DllPath, .. args], workDir, env, timeout);
    }
}
