using System.Security.Cryptography;
using System.Text;
using Arca.Core.Storage;
using Dapper;
using Npgsql;

namespace Arca.Storage.Postgres;

/// <summary>Cluster-wide locks as session-level advisory locks, each held on its own connection: if the instance dies
/// or loses that connection, PostgreSQL releases the lock and another instance can take over.</summary>
public sealed partial class PostgresMetadataStore : IClusterLockStore
{
    public async Task<IClusterLease?> TryLockAsync(string name, bool shared = false, CancellationToken ct = default)
    {
        var key = BitConverter.ToInt64(SHA256.HashData(Encoding.UTF8.GetBytes("arca-lock:" + name)), 0);
        var c = await OpenConnectionAsync(ct);
        try
        {
            var sql = shared ? "SELECT pg_try_advisory_lock_shared(@key)" : "SELECT pg_try_advisory_lock(@key)";
            if (await c.ExecuteScalarAsync<bool>(sql, new { key })) return new Lease(c, key, shared);
        }
        catch
        {
            await c.DisposeAsync();
            throw;
        }
        await c.DisposeAsync();
        return null;
    }

    private sealed class Lease(NpgsqlConnection connection, long key, bool shared) : IClusterLease
    {
        public async Task<bool> IsHeldAsync(CancellationToken ct = default)
        {
            try
            {
                // A session-level lock lives as long as its session: the session answering means the lock is still ours.
                return await connection.ExecuteScalarAsync<bool>("SELECT true");
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { return false; }
        }

        public async Task<bool> IsSoleHolderAsync(CancellationToken ct = default)
        {
            // A session never conflicts with its own locks: the exclusive lock is granted here only when no other
            // session holds this key. Let it go at once; the lease keeps what it held.
            if (!await connection.ExecuteScalarAsync<bool>("SELECT pg_try_advisory_lock(@key)", new { key })) return false;
            await connection.ExecuteAsync("SELECT pg_advisory_unlock(@key)", new { key });
            return true;
        }

        public async ValueTask DisposeAsync()
        {
            try { await connection.ExecuteAsync(shared ? "SELECT pg_advisory_unlock_shared(@key)" : "SELECT pg_advisory_unlock(@key)", new { key }); }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException) { } // a broken connection released it already
            await connection.DisposeAsync();
        }
    }
}
