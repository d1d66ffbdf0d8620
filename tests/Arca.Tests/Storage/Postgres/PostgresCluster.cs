using System.Net;
using System.Net.Sockets;
using Arca.Tests.Infrastructure;
using Npgsql;

namespace Arca.Tests.Storage.Postgres;

/// <summary>
/// A throwaway PostgreSQL cluster for the whole test run: initdb into a temp directory, listening on a free
/// 127.0.0.1 port (unix sockets in the temp directory, trust authentication), stopped and removed by a watchdog when
/// the test process is gone.
/// PostgreSQL refuses to run as root, so as root initdb and pg_ctl run as the `postgres` user (runuser) and the
/// directory is chowned to it. Missing binaries fail the test with a clear message: CI installs the Debian
/// `postgresql` package (scripts/install-test-deps.sh), tests are never skipped.
/// </summary>
public sealed class PostgresCluster
{
    private static readonly Lazy<Task<PostgresCluster>> Shared = new(StartAsync, LazyThreadSafetyMode.ExecutionAndPublication);

    public int Port { get; }
    private readonly string _dir;

    private PostgresCluster(string dir, int port) { _dir = dir; Port = port; }

    /// <summary>The cluster of this test run, started on first use.</summary>
    public static Task<PostgresCluster> GetAsync() => Shared.Value;

    /// <summary>Connection string of a new empty database (each test gets its own, so tests never see each other's rows).</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Guid.NewGuid():N}".ToLowerInvariant();
        await using (var c = new NpgsqlConnection(ConnectionString("postgres")))
        {
            await c.OpenAsync();
            await using var cmd = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", c);
            await cmd.ExecuteNonQueryAsync();
        }
        return ConnectionString(name);
    }

    public async Task DropDatabaseAsync(string connectionString)
    {
        var name = new NpgsqlConnectionStringBuilder(connectionString).Database!;
        await using var c = new NpgsqlConnection(ConnectionString("postgres"));
        await c.OpenAsync();
        await using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", c);
        await cmd.ExecuteNonQueryAsync();
    }

    /// <summary>Npgsql keyword form; <see cref="Uri"/> gives the postgres:// form of the same database.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = "postgres", Database = database }.ConnectionString;

    public string Uri(string database) => $"postgres://postgres@127.0.0.1:{Port}/{database}?sslmode=disable";

    private static string FindBinDir()
    {
        var candidates = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin"))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            : Enumerable.Empty<string>();
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':');
        foreach (var dir in candidates.Concat(onPath))
            if (File.Exists(Path.Combine(dir, "initdb")) && File.Exists(Path.Combine(dir, "pg_ctl")))
                return dir;
        Assert.Fail("PostgreSQL server binaries (initdb, pg_ctl) are not installed: install the Debian 'postgresql' package " +
            "(scripts/install-test-deps.sh does) to run the PostgreSQL storage tests");
        return "";
    }

    private static async Task<PostgresCluster> StartAsync()
    {
        var bin = FindBinDir();
        var dir = TempDir.Create("pg");
        var data = Path.Combine(dir, "data");
        var asRoot = Environment.UserName == "root";
        if (asRoot)
        {
            // The postgres user must reach the directory: open the parents for traversal, hand the directory over.
            for (var p = Path.GetDirectoryName(dir); p is not null && p != "/"; p = Path.GetDirectoryName(p))
                File.SetUnixFileMode(p, File.GetUnixFileMode(p) | UnixFileMode.OtherExecute);
            (await Proc.RunAsync("chown", ["postgres:postgres", dir])).AssertOk("chown postgres temp dir");
        }

        async Task<ProcResult> Pg(string tool, params string[] args) => asRoot
            ? await Proc.RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(bin, tool), .. args], workDir: dir, timeout: TimeSpan.FromMinutes(2))
            : await Proc.RunAsync(Path.Combine(bin, tool), args, workDir: dir, timeout: TimeSpan.FromMinutes(2));

        (await Pg("initdb", "-D", data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync", "--no-instructions"))
            .AssertOk("initdb");
        var port = FreePort();
        // Durability off: a test cluster only needs speed. Enough connections for parallel test classes with pools.
        var serverOptions = $"-p {port} -k {dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off " +
                            "-c full_page_writes=off -c max_connections=400";
        (await Pg("pg_ctl", "-D", data, "-l", Path.Combine(dir, "server.log"), "-w", "-t", "60", "-o", serverOptions, "start"))
            .AssertOk($"pg_ctl start (log: {Path.Combine(dir, "server.log")})");

        StartWatchdog(Path.Combine(bin, "pg_ctl"), data, dir, asRoot);
        return new PostgresCluster(dir, port);
    }

    /// <summary>
    /// Stops the cluster and removes its directory once the test process is gone, however it ends: the test host is
    /// often killed right after the run, before exit handlers finish. A detached shell (own session, stdio closed,
    /// so the test runner neither waits for it nor kills it with the host) polls the test process.
    /// </summary>
    private static void StartWatchdog(string pgCtl, string data, string dir, bool asRoot)
    {
        var stop = $"{(asRoot ? "runuser -u postgres -- " : "")}'{pgCtl}' -D '{data}' -m immediate stop";
        var script = $"exec </dev/null >/dev/null 2>&1; while kill -0 {Environment.ProcessId}; do sleep 1; done; {stop}; rm -rf '{dir}'";
        var psi = new System.Diagnostics.ProcessStartInfo("setsid") { UseShellExecute = false };
        foreach (var a in new[] { "sh", "-c", script }) psi.ArgumentList.Add(a);
        System.Diagnostics.Process.Start(psi)!.Dispose();
    }

    private static int FreePort()
    {
        var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        var port = ((IPEndPoint)l.LocalEndpoint).Port;
        l.Stop();
        return port;
    }
}
