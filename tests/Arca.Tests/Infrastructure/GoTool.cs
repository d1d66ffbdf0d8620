namespace Arca.Tests.Infrastructure;

/// <summary>Runs the real `go` isolated in a work folder (own HOME, module and build caches), with GOPROXY pointing at
/// one proxy only and no checksum database, so a test proves what that proxy alone serves.</summary>
public static class GoTool
{
    public static Task<ProcResult> RunAsync(string workDir, string proxy, string dir, params string[] args)
    {
        var home = Path.Combine(workDir, "home");
        Directory.CreateDirectory(home);
        var env = new Dictionary<string, string?>
        {
            ["GOPROXY"] = proxy,
            ["GOSUMDB"] = "off",
            ["GOFLAGS"] = "-modcacherw",
            ["GOMODCACHE"] = Path.Combine(workDir, "modcache"),
            ["GOCACHE"] = Path.Combine(workDir, "gocache"),
            ["GOPATH"] = Path.Combine(workDir, "gopath"),
            ["HOME"] = home,
            ["GOENV"] = "off",
            ["GOPRIVATE"] = null, ["GONOPROXY"] = null, ["GONOSUMDB"] = null, ["GOINSECURE"] = null,
            ["GO111MODULE"] = "on",
            ["CGO_ENABLED"] = "0",
        };
        return Proc.RunAsync(Proc.Tool("go"), args, dir, env, TimeSpan.FromMinutes(5));
    }
}
