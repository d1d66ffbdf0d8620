using System.Diagnostics;
using System.Text;

namespace Arca.Tests.Infrastructure;

public sealed record ProcResult(int ExitCode, string Stdout, string Stderr)
{
    public string All => Stdout + Stderr;
    public ProcResult AssertOk(string what)
    {
        Assert.True(ExitCode == 0, $"{what} exited {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}");
        return this;
    }
}

/// <summary>Runs external programs (real clients, the arca CLI) with a timeout and captured output.</summary>
public static class Proc
{
    public static async Task<ProcResult> RunAsync(string file, IEnumerable<string> args, string? workDir = null,
        IDictionary<string, string?>? env = null, TimeSpan? timeout = null, string? stdin = null)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
            UseShellExecute = false, WorkingDirectory = workDir ?? Environment.CurrentDirectory,
        };
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (env is not null)
            foreach (var (k, v) in env)
                if (v is null) psi.Environment.Remove(k); else psi.Environment[k] = v;
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (stdin is not null) await p.StandardInput.WriteAsync(stdin);
        p.StandardInput.Close();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromMinutes(5));
        try { await p.WaitForExitAsync(cts.Token); }
        catch (OperationCanceledException)
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} timed out\n{stdout}\n{stderr}");
        }
        p.WaitForExit();
        return new ProcResult(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Full path of a required tool. The CI script installs every tool the tests use, so a missing one fails
    /// the test (never skips it).</summary>
    public static string Tool(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            var candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        Assert.Fail($"required tool '{name}' is not installed (run scripts/test.sh, which installs the real clients)");
        return name;
    }
}
