using Arca.Tests.Infrastructure;

namespace Arca.Tests.Storage.Postgres;

/// <summary>`arca serve --database ...` as a real process: a database it cannot use stops it at start-up with one
/// clear line, not a stack trace; a good one serves.</summary>
public sealed class PostgresStartupTests
{
    private static async Task<ProcResult> ServeAsync(string database, string? env = null)
    {
        var data = TempDir.Create("pg-startup");
        try
        {
            return await Proc.RunAsync("dotnet",
                [ArcaCli.DllPath, "serve", "--listen", $"http://127.0.0.1:{ServerProcess.FreePort()}", "--data", data, .. env is null ? ["--database", database] : Array.Empty<string>()],
                env: new Dictionary<string, string?> { ["ARCA_DATABASE"] = env }, timeout: TimeSpan.FromMinutes(1));
        }
        finally { TempDir.TryDelete(data); }
    }

    private static void AssertOneLineError(ProcResult r, string expectedStart)
    {
        Assert.Equal(1, r.ExitCode);
        var lines = r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.True(lines.Length == 1, $"expected one line on stderr, got:\n{r.Stderr}");
        Assert.StartsWith(expectedStart, lines[0]);
        Assert.DoesNotContain("   at ", r.All);
    }

    [Fact]
    public async Task A_postgres_uri_with_libpq_parameters_serves()
    {
        var cluster = await PostgresCluster.GetAsync();
        var db = new Npgsql.NpgsqlConnectionStringBuilder(await cluster.CreateDatabaseAsync("uri")).Database!;
        try
        {
            await using (var server = await TestServer.StartAsync(o => o with { Database = cluster.Uri(db) + "&application_name=arca-test&connect_timeout=10" }))
            {
                await server.CreateRegistryAsync("via-uri", "GENERIC");
                Assert.Contains("via-uri", await server.Admin.GetStringAsync("api/v1/registries"));
            }
            // The metadata went to PostgreSQL, not to a SQLite file in the data directory.
            await using var c = new Npgsql.NpgsqlConnection(cluster.ConnectionString(db));
            await c.OpenAsync();
            await using var cmd = new Npgsql.NpgsqlCommand("SELECT name FROM registries", c);
            Assert.Equal("via-uri", await cmd.ExecuteScalarAsync());
        }
        finally { await cluster.DropDatabaseAsync(cluster.ConnectionString(db)); }
    }

    [Fact]
    public async Task An_unreachable_database_fails_start_up_with_one_line()
    {
        var port = ServerProcess.FreePort(); // nothing listens there
        var r = await ServeAsync($"postgres://arca:secret-password@127.0.0.1:{port}/arca");
        AssertOneLineError(r, $"error: cannot use the PostgreSQL database arca@127.0.0.1:{port}/arca: ");
        Assert.DoesNotContain("secret-password", r.All);
    }

    [Fact]
    public async Task A_missing_database_fails_start_up_with_the_server_s_reason()
    {
        var cluster = await PostgresCluster.GetAsync();
        var r = await ServeAsync(cluster.ConnectionString("no_such_database"));
        AssertOneLineError(r, $"error: cannot use the PostgreSQL database postgres@127.0.0.1:{cluster.Port}/no_such_database: ");
        Assert.Contains("does not exist", r.Stderr);
    }

    [Fact]
    public async Task Malformed_connection_strings_are_rejected_before_connecting()
    {
        AssertOneLineError(await ServeAsync("postgres://"), "error: --database: invalid PostgreSQL URI");
        AssertOneLineError(await ServeAsync("Host=127.0.0.1;Bogus Keyword=1"), "error: --database: invalid PostgreSQL connection string");
        AssertOneLineError(await ServeAsync("mysql://root@db/arca"), "error: --database: expected a PostgreSQL connection string");
        // ARCA_DATABASE is read the same way.
        AssertOneLineError(await ServeAsync("", env: "postgresql://a@127.0.0.1:1/x?sslmode=nonsense"), "error: --database: invalid PostgreSQL URI parameter 'SSL Mode'");
    }
}
