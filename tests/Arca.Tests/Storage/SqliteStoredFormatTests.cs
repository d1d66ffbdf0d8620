using Arca.Core.Auth;
using Arca.Core.Endpoints;
using Arca.Core.Model;
using Arca.Storage.Sqlite;
using Arca.Tests.Infrastructure;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Arca.Tests.Storage;

/// <summary>The shared SQL store binds values through the SQLite dialect: existing SQLite files must keep their
/// on-disk format — booleans as INTEGER 0/1 (which the queries' <c>= 1</c> conditions rely on) and timestamps as
/// ISO-8601 UTC text with 7 fractional digits (which sorts chronologically).</summary>
public sealed class SqliteStoredFormatTests : IAsyncLifetime
{
    private readonly string _dir = TempDir.Create("sqlite-format");
    private string DbPath => Path.Combine(_dir, "arca.db");

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        TempDir.TryDelete(_dir);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Booleans_are_stored_as_integers_and_timestamps_as_iso_text()
    {
        var store = new SqliteMetadataStore(DbPath);
        await store.MigrateAsync();
        await store.CreateRegistryAsync(new Registry { Name = "fmt", PackageType = "GENERIC", Public = true, AllowOverwrite = false });
        await store.CreateEndpointAsync(new RemoteEndpoint { Name = "ep", Provider = "docker-registry", Url = "https://example.test", VerifyRemoteCert = false });
        var expires = new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.FromHours(2)).AddTicks(1234567);
        await store.CreateTokenAsync(new ApiToken { Name = "t", Hash = "h", Scope = TokenScope.Read, ExpiresAt = expires });

        await using var c = new SqliteConnection($"Data Source={DbPath}");
        var registry = await c.QuerySingleAsync<(string PublicType, long Public, long Overwrite, string CreatedAt)>(
            "SELECT typeof(is_public), is_public, allow_overwrite, created_at FROM registries WHERE name = 'fmt'");
        Assert.Equal(("integer", 1L, 0L), (registry.PublicType, registry.Public, registry.Overwrite));
        Assert.Matches(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$", registry.CreatedAt);

        var verify = await c.QuerySingleAsync<(string Type, long Value)>("SELECT typeof(verify_remote_cert), verify_remote_cert FROM endpoints WHERE name = 'ep'");
        Assert.Equal(("integer", 0L), verify);

        Assert.Equal("2031-02-03T02:05:06.1234567Z", await c.ExecuteScalarAsync<string>("SELECT expires_at FROM tokens WHERE name = 't'"));
        Assert.Equal("integer", await c.ExecuteScalarAsync<string>("SELECT typeof(version) FROM schema_version LIMIT 1"));
    }
}
