using System.Data.Common;
using Arca.Core.Endpoints;
using Arca.Core.Model;
using Arca.Core.Storage;
using Dapper;

namespace Arca.Storage.Sql;

public abstract partial class SqlMetadataStore : IEndpointStore
{
    private sealed class EndpointRow
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string Provider { get; set; } = "";
        public string Url { get; set; } = "";
        public string? Username { get; set; }
        public string? Secret { get; set; }
        public bool VerifyRemoteCert { get; set; }
        public string? Description { get; set; }
        public DateTimeOffset CreatedAt { get; set; }
        public DateTimeOffset UpdatedAt { get; set; }

        public RemoteEndpoint ToModel() => new()
        {
            Id = Id, Name = Name, Provider = Provider, Url = Url, Username = Username, EncryptedSecret = Secret,
            VerifyRemoteCert = VerifyRemoteCert, Description = Description, CreatedAt = CreatedAt, UpdatedAt = UpdatedAt,
        };
    }

    public async Task<RemoteEndpoint> CreateEndpointAsync(RemoteEndpoint e, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var now = Now();
        try
        {
            var id = await c.ExecuteScalarAsync<long>("""
                INSERT INTO endpoints(name, provider, url, username, secret, verify_remote_cert, description, created_at, updated_at)
                VALUES (@Name, @Provider, @Url, @Username, @EncryptedSecret, @Verify, @Description, @now, @now)
                RETURNING id
                """, new { e.Name, e.Provider, e.Url, e.Username, e.EncryptedSecret, Verify = e.VerifyRemoteCert, e.Description, now });
            return (await c.QuerySingleAsync<EndpointRow>("SELECT * FROM endpoints WHERE id = @id", new { id })).ToModel();
        }
        catch (DbException ex) when (Dialect.IsUniqueViolation(ex))
        {
            throw ArcaException.Conflict($"endpoint '{e.Name}' already exists", "ALREADY_EXISTS");
        }
    }

    public async Task<RemoteEndpoint?> GetEndpointAsync(string name, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<EndpointRow>("SELECT * FROM endpoints WHERE name = @name", new { name }))?.ToModel();
    }

    public async Task<IReadOnlyList<RemoteEndpoint>> ListEndpointsAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QueryAsync<EndpointRow>($"SELECT * FROM endpoints ORDER BY name{Dialect.BinaryCollation}")).Select(r => r.ToModel()).ToList();
    }

    public async Task<RemoteEndpoint> UpdateEndpointAsync(RemoteEndpoint e, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync("""
            UPDATE endpoints SET provider = @Provider, url = @Url, username = @Username, secret = @EncryptedSecret,
                verify_remote_cert = @Verify, description = @Description, updated_at = @now WHERE id = @Id
            """, new { e.Id, e.Provider, e.Url, e.Username, e.EncryptedSecret, Verify = e.VerifyRemoteCert, e.Description, now = Now() });
        return (await c.QuerySingleOrDefaultAsync<EndpointRow>("SELECT * FROM endpoints WHERE id = @Id", new { e.Id }))?.ToModel()
            ?? throw ArcaException.NotFound($"endpoint '{e.Name}' not found", "ENDPOINT_NOT_FOUND");
    }

    public async Task<bool> DeleteEndpointAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.ExecuteAsync("DELETE FROM endpoints WHERE id = @id", new { id }) > 0;
    }
}
