using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Dapper;

namespace Arca.Storage.Sql;

/// <summary>
/// The metadata store over any SQL engine, written once: the engine projects (Arca.Storage.Sqlite,
/// Arca.Storage.Postgres) derive from it and supply only how to open a connection, their schema migrations, the
/// <see cref="SqlDialect"/> fragments, and features only their engine has. Where SQLite relies on its single writer,
/// the dialect adds row locks (FOR UPDATE) on the version or repository being written, so concurrent writers on
/// different servers still serialize per item. The contract suites in tests/Arca.Tests/Storage run against every engine.
/// </summary>
public abstract partial class SqlMetadataStore : IMetadataStore
{
    protected SqlMetadataStore(SqlDialect dialect)
    {
        Dialect = dialect;
    }

    static SqlMetadataStore()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
    }

    public SqlDialect Dialect { get; }

    /// <summary>An open connection to the engine; the caller disposes it.</summary>
    protected internal abstract Task<DbConnection> OpenAsync(CancellationToken ct);

    /// <summary>"Now" as the engine binds timestamps.</summary>
    protected object Now() => Dialect.Now();

    /// <summary>Creates or upgrades the schema: the engine's own steps (DDL differs per engine), usually through
    /// <see cref="ApplyMissingStepsAsync"/>.</summary>
    public abstract Task MigrateAsync(CancellationToken ct = default);

    /// <summary>Applies every step not recorded in schema_version yet (not just those above the highest: steps
    /// developed side by side may land in any order), in version order, and records each. With
    /// <paramref name="transaction"/> all steps run in it; without, each step runs in a transaction of its own.</summary>
    protected async Task ApplyMissingStepsAsync(DbConnection c, DbTransaction? transaction, IEnumerable<(int Version, string Sql)> steps, CancellationToken ct)
    {
        var applied = (await c.QueryAsync<long>("SELECT version FROM schema_version", transaction: transaction)).ToHashSet();
        foreach (var (version, sql) in steps.Where(s => !applied.Contains(s.Version)).OrderBy(s => s.Version))
        {
            var tx = transaction ?? await c.BeginTransactionAsync(ct);
            try
            {
                await c.ExecuteAsync(sql, transaction: tx);
                await c.ExecuteAsync("INSERT INTO schema_version(version, applied_at) VALUES (@version, @now)", new { version, now = Now() }, tx);
                if (transaction is null) await tx.CommitAsync(ct);
            }
            finally
            {
                if (transaction is null) await tx.DisposeAsync();
            }
        }
    }

    public async Task<bool> PingAsync(CancellationToken ct = default)
    {
        try
        {
            await using var c = await OpenAsync(ct);
            return await c.ExecuteScalarAsync<long>("SELECT 1") == 1;
        }
        catch (DbException) { return false; }
    }

    // ---------------- Registries ----------------

    private sealed class RegistryRow
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public string PackageType { get; set; } = "";
        public string? Org { get; set; }
        public string? Project { get; set; }
        public string? Description { get; set; }
        public bool IsPublic { get; set; }
        public bool AllowOverwrite { get; set; }
        public string Labels { get; set; } = "[]";
        public DateTimeOffset CreatedAt { get; set; }
        public DateTimeOffset UpdatedAt { get; set; }

        public Registry ToModel() => new()
        {
            Id = Id, Name = Name, PackageType = PackageType, Org = Org, Project = Project, Description = Description,
            Public = IsPublic, AllowOverwrite = AllowOverwrite,
            Labels = JsonSerializer.Deserialize<string[]>(Labels) ?? [], CreatedAt = CreatedAt, UpdatedAt = UpdatedAt,
        };
    }

    private string RegistrySelect => $"""
        SELECT id, name, package_type, org, project, description, is_public, allow_overwrite, labels{Dialect.TextCast} AS labels, created_at, updated_at
        FROM registries
        """;

    public async Task<Registry> CreateRegistryAsync(Registry r, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var now = Now();
        try
        {
            var id = await c.ExecuteScalarAsync<long>($"""
                INSERT INTO registries(name, package_type, org, project, description, is_public, allow_overwrite, labels, created_at, updated_at)
                VALUES (@Name, @PackageType, @Org, @Project, @Description, @Public, @AllowOverwrite, @Labels{Dialect.JsonbCast}, @now, @now)
                RETURNING id
                """, new { r.Name, r.PackageType, r.Org, r.Project, r.Description, r.Public, r.AllowOverwrite,
                    Labels = JsonSerializer.Serialize(r.Labels), now });
            return (await GetRegistryByIdAsync(id, ct))!;
        }
        catch (DbException e) when (Dialect.IsUniqueViolation(e))
        {
            throw ArcaException.Conflict($"registry '{r.Name}' already exists", "ALREADY_EXISTS");
        }
    }

    public async Task<Registry?> GetRegistryAsync(string name, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<RegistryRow>($"{RegistrySelect} WHERE name = @name", new { name }))?.ToModel();
    }

    public async Task<Registry?> GetRegistryByIdAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<RegistryRow>($"{RegistrySelect} WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<Page<Registry>> ListRegistriesAsync(RegistryQuery q, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var where = $"""
            WHERE (@PackageType{Dialect.TextCast} IS NULL OR package_type = @PackageType)
              AND (@Org{Dialect.TextCast} IS NULL OR org = @Org)
              AND (@Project{Dialect.TextCast} IS NULL OR project = @Project)
              AND (@Search{Dialect.TextCast} IS NULL OR name {Dialect.CaseInsensitiveLike} '%' || @Search || '%')
            """;
        var args = new { q.PackageType, q.Org, q.Project, q.Search, q.Page.PageSize, q.Page.Offset };
        var total = await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM registries {where}", args);
        var rows = await c.QueryAsync<RegistryRow>($"{RegistrySelect} {where} ORDER BY name{Dialect.BinaryCollation} LIMIT @PageSize OFFSET @Offset", args);
        return new Page<Registry>(rows.Select(r => r.ToModel()).ToList(), q.Page.Page, q.Page.PageSize, total);
    }

    public async Task<Registry> UpdateRegistryAsync(Registry r, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync($"""
            UPDATE registries SET org = @Org, project = @Project, description = @Description, is_public = @Public,
                allow_overwrite = @AllowOverwrite, labels = @Labels{Dialect.JsonbCast}, updated_at = @now WHERE id = @Id
            """, new { r.Id, r.Org, r.Project, r.Description, r.Public, r.AllowOverwrite, Labels = JsonSerializer.Serialize(r.Labels), now = Now() });
        return (await GetRegistryByIdAsync(r.Id, ct)) ?? throw ArcaException.NotFound($"registry {r.Name} not found");
    }

    public async Task<bool> DeleteRegistryAsync(long registryId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync("""
            DELETE FROM metadata WHERE level = 'Version' AND owner_id IN
                (SELECT v.id FROM versions v JOIN packages p ON p.id = v.package_id WHERE p.registry_id = @registryId);
            DELETE FROM metadata WHERE level = 'Package' AND owner_id IN (SELECT id FROM packages WHERE registry_id = @registryId);
            DELETE FROM metadata WHERE level = 'Registry' AND owner_id = @registryId;
            """, new { registryId }, tx);
        var n = await c.ExecuteAsync("DELETE FROM registries WHERE id = @registryId", new { registryId }, tx);
        await tx.CommitAsync(ct);
        return n > 0;
    }

    // ---------------- Packages ----------------

    private string PackageSelect => $"""
        SELECT p.id, p.registry_id, r.name AS registry_name, p.name, p.properties{Dialect.TextCast} AS properties, p.created_at, p.updated_at,
            (SELECT COUNT(*) FROM versions v WHERE v.package_id = p.id){Dialect.IntegerCast} AS version_count,
            (SELECT COALESCE(SUM(f.size), 0) FROM files f JOIN versions v ON v.id = f.version_id WHERE v.package_id = p.id){Dialect.BigintCast} AS total_size
        FROM packages p JOIN registries r ON r.id = p.registry_id
        """;

    public async Task<Package?> GetPackageAsync(long registryId, string name, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<Package>($"{PackageSelect} WHERE p.registry_id = @registryId AND p.name = @name", new { registryId, name });
    }

    public async Task<Package> GetOrCreatePackageAsync(long registryId, string name, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await EnsurePackageAsync(c, null, registryId, name);
        return (await GetPackageAsync(registryId, name, ct))!;
    }

    public async Task<Page<Package>> ListPackagesAsync(long? registryId, string? search, PageRequest page, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var where = $"WHERE (@registryId{Dialect.BigintCast} IS NULL OR p.registry_id = @registryId) AND (@search{Dialect.TextCast} IS NULL OR p.name {Dialect.CaseInsensitiveLike} '%' || @search || '%')";
        var args = new { registryId, search, page.PageSize, page.Offset };
        var total = await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM packages p {where}", args);
        var items = await c.QueryAsync<Package>($"{PackageSelect} {where} ORDER BY r.name{Dialect.BinaryCollation}, p.name{Dialect.BinaryCollation} LIMIT @PageSize OFFSET @Offset", args);
        return new Page<Package>(items.ToList(), page.Page, page.PageSize, total);
    }

    public async Task SetPackagePropertiesAsync(long packageId, string? propertiesJson, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync($"UPDATE packages SET properties = @propertiesJson{Dialect.JsonCast}, updated_at = @now WHERE id = @packageId", new { packageId, propertiesJson, now = Now() });
    }

    public async Task<bool> DeletePackageAsync(long packageId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync("""
            DELETE FROM metadata WHERE level = 'Version' AND owner_id IN (SELECT id FROM versions WHERE package_id = @packageId);
            DELETE FROM metadata WHERE level = 'Package' AND owner_id = @packageId;
            """, new { packageId }, tx);
        var n = await c.ExecuteAsync("DELETE FROM packages WHERE id = @packageId", new { packageId }, tx);
        await tx.CommitAsync(ct);
        return n > 0;
    }

    // ---------------- Versions ----------------

    private string VersionSelect => $"""
        SELECT v.id, v.package_id, p.name AS package_name, v.version, v.properties{Dialect.TextCast} AS properties, v.created_at, v.updated_at,
            (SELECT COUNT(*) FROM files f WHERE f.version_id = v.id){Dialect.IntegerCast} AS file_count,
            (SELECT COALESCE(SUM(f.size), 0) FROM files f WHERE f.version_id = v.id){Dialect.BigintCast} AS total_size
        FROM versions v JOIN packages p ON p.id = v.package_id
        """;

    public async Task<PackageVersion?> GetVersionAsync(long packageId, string version, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<PackageVersion>($"{VersionSelect} WHERE v.package_id = @packageId AND v.version = @version", new { packageId, version });
    }

    public async Task<Page<PackageVersion>> ListVersionsAsync(long packageId, PageRequest page, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var args = new { packageId, page.PageSize, page.Offset };
        var total = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM versions WHERE package_id = @packageId", args);
        var items = await c.QueryAsync<PackageVersion>($"{VersionSelect} WHERE v.package_id = @packageId ORDER BY v.created_at, v.id LIMIT @PageSize OFFSET @Offset", args);
        return new Page<PackageVersion>(items.ToList(), page.Page, page.PageSize, total);
    }

    public async Task SetVersionPropertiesAsync(long versionId, string? propertiesJson, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync($"UPDATE versions SET properties = @propertiesJson{Dialect.JsonCast}, updated_at = @now WHERE id = @versionId", new { versionId, propertiesJson, now = Now() });
    }

    public async Task<bool> DeleteVersionAsync(long versionId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync("DELETE FROM metadata WHERE level = 'Version' AND owner_id = @versionId", new { versionId }, tx);
        var n = await c.ExecuteAsync("DELETE FROM versions WHERE id = @versionId", new { versionId }, tx);
        await tx.CommitAsync(ct);
        return n > 0;
    }

    public async Task<PublishResult> PublishAsync(PublishRequest req, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var packageId = await EnsurePackageAsync(c, tx, req.RegistryId, req.PackageName);
        var (versionId, created) = await EnsureVersionAsync(c, tx, packageId, req.Version);
        // Publishes of one version serialize on its row (SQLite gets this from its single writer): the second one
        // sees the first one's files and answers Conflict instead of silently overwriting them.
        await Dialect.LockRowsAsync(c, tx, "versions", [versionId]);
        var outcome = created ? PublishOutcome.Created : PublishOutcome.Replaced;
        var now = Now();

        if (req.ReplaceVersion && !created)
        {
            if (!req.Overwrite)
            {
                await tx.RollbackAsync(ct);
                return new PublishResult(PublishOutcome.Conflict, (await GetPackageAsync(req.RegistryId, req.PackageName, ct))!,
                    (await GetVersionAsync(packageId, req.Version, ct))!);
            }
            await c.ExecuteAsync("DELETE FROM files WHERE version_id = @versionId", new { versionId }, tx);
        }

        foreach (var f in req.Files)
        {
            var exists = await c.ExecuteScalarAsync<long?>("SELECT id FROM files WHERE version_id = @versionId AND path = @Path", new { versionId, f.Path }, tx);
            if (exists is not null && !req.Overwrite)
            {
                await tx.RollbackAsync(ct);
                var pkg = await GetPackageAsync(req.RegistryId, req.PackageName, ct);
                var ver = pkg is null ? null : await GetVersionAsync(pkg.Id, req.Version, ct);
                return new PublishResult(PublishOutcome.Conflict, pkg!, ver!, f.Path);
            }
            if (exists is not null) outcome = PublishOutcome.Replaced;
            await c.ExecuteAsync("""
                INSERT INTO files(version_id, path, blob_digest, size, content_type, sha1, md5, created_at)
                VALUES (@versionId, @Path, @BlobDigest, @Size, @ContentType, @Sha1, @Md5, @now)
                ON CONFLICT (version_id, path) DO UPDATE SET blob_digest = excluded.blob_digest, size = excluded.size,
                    content_type = excluded.content_type, sha1 = excluded.sha1, md5 = excluded.md5, created_at = excluded.created_at
                """, new { versionId, f.Path, f.BlobDigest, f.Size, f.ContentType, f.Sha1, f.Md5, now }, tx);
        }
        if (req.VersionProperties is not null)
            await c.ExecuteAsync($"UPDATE versions SET properties = @p{Dialect.JsonCast} WHERE id = @versionId", new { p = req.VersionProperties, versionId }, tx);
        if (req.PackageProperties is not null)
            await c.ExecuteAsync($"UPDATE packages SET properties = @p{Dialect.JsonCast} WHERE id = @packageId", new { p = req.PackageProperties, packageId }, tx);
        await c.ExecuteAsync("UPDATE versions SET updated_at = @now WHERE id = @versionId; UPDATE packages SET updated_at = @now WHERE id = @packageId;",
            new { now, versionId, packageId }, tx);
        await tx.CommitAsync(ct);
        var package = (await GetPackageAsync(req.RegistryId, req.PackageName, ct))!;
        return new PublishResult(created ? PublishOutcome.Created : outcome, package, (await GetVersionAsync(packageId, req.Version, ct))!);
    }

    // ---------------- Files ----------------

    private const string FileSelect = "SELECT id, version_id, path, blob_digest, size, content_type, sha1, md5, created_at FROM files";

    public async Task<PackageFile?> GetFileAsync(long versionId, string path, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<PackageFile>($"{FileSelect} WHERE version_id = @versionId AND path = @path", new { versionId, path });
    }

    public async Task<IReadOnlyList<PackageFile>> ListFilesAsync(long versionId, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QueryAsync<PackageFile>($"{FileSelect} WHERE version_id = @versionId ORDER BY path{Dialect.BinaryCollation}", new { versionId })).ToList();
    }

    public async Task<bool> DeleteFileAsync(long versionId, string path, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.ExecuteAsync("DELETE FROM files WHERE version_id = @versionId AND path = @path", new { versionId, path }) > 0;
    }

    // ---------------- Metadata ----------------

    public async Task<IReadOnlyDictionary<string, string>> GetMetadataAsync(MetadataOwner owner, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var rows = await c.QueryAsync<(string Key, string Value)>($"SELECT key, value FROM metadata WHERE level = @level AND owner_id = @Id ORDER BY key{Dialect.BinaryCollation}",
            new { level = owner.Level.ToString(), owner.Id });
        return rows.ToDictionary(r => r.Key, r => r.Value);
    }

    public async Task SetMetadataAsync(MetadataOwner owner, IReadOnlyDictionary<string, string> values, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        foreach (var (key, value) in values)
            await c.ExecuteAsync("""
                INSERT INTO metadata(level, owner_id, key, value) VALUES (@level, @Id, @key, @value)
                ON CONFLICT (level, owner_id, key) DO UPDATE SET value = excluded.value
                """, new { level = owner.Level.ToString(), owner.Id, key, value }, tx);
        await tx.CommitAsync(ct);
    }

    public async Task<int> DeleteMetadataAsync(MetadataOwner owner, IReadOnlyCollection<string>? keys, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        var level = owner.Level.ToString();
        if (keys is null || keys.Count == 0)
            return await c.ExecuteAsync("DELETE FROM metadata WHERE level = @level AND owner_id = @Id", new { level, owner.Id });
        return await DeleteMetadataKeysAsync(c, level, owner.Id, keys);
    }

    /// <summary>Deletes the given keys of one owner and counts the rows deleted: one statement a key here; an engine
    /// with arrays overrides it with a single statement.</summary>
    protected virtual async Task<int> DeleteMetadataKeysAsync(DbConnection c, string level, long ownerId, IReadOnlyCollection<string> keys)
    {
        var n = 0;
        foreach (var key in keys)
            n += await c.ExecuteAsync("DELETE FROM metadata WHERE level = @level AND owner_id = @ownerId AND key = @key", new { level, ownerId, key });
        return n;
    }

    // ---------------- Blobs ----------------

    public async Task RecordBlobAsync(BlobRecord b, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync("""
            INSERT INTO blobs(digest, size, sha1, md5, created_at) VALUES (@Digest, @Size, @Sha1, @Md5, @now)
            ON CONFLICT (digest) DO UPDATE SET sha1 = COALESCE(blobs.sha1, excluded.sha1), md5 = COALESCE(blobs.md5, excluded.md5)
            """, new { b.Digest, b.Size, b.Sha1, b.Md5, now = Now() });
    }

    public async Task<BlobRecord?> GetBlobAsync(string digest, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<BlobRecord>("SELECT digest, size, sha1, md5, created_at FROM blobs WHERE digest = @digest", new { digest });
    }

    public async IAsyncEnumerable<string> ListReferencedDigestsAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        // referenced_digests is a view; migrations that add format tables holding digests redefine it.
        await using var reader = await c.ExecuteReaderAsync("SELECT DISTINCT digest FROM referenced_digests");
        while (await reader.ReadAsync(ct)) yield return reader.GetString(0);
    }

    public async Task<bool> IsBlobReferencedAsync(string digest, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.ExecuteScalarAsync<long?>("SELECT 1 FROM referenced_digests WHERE digest = @digest LIMIT 1", new { digest }) is not null;
    }

    public async Task ForgetBlobAsync(string digest, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync("DELETE FROM blobs WHERE digest = @digest", new { digest });
    }

    // ---------------- Tokens ----------------

    private const string TokenSelect = """
        SELECT t.id, t.name, t.hash, t.scope, t.registry_id, r.name AS registry_name, t.created_at, t.expires_at, t.last_used_at
        FROM tokens t LEFT JOIN registries r ON r.id = t.registry_id
        """;

    public async Task<ApiToken> CreateTokenAsync(ApiToken t, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        try
        {
            var id = await c.ExecuteScalarAsync<long>("""
                INSERT INTO tokens(name, hash, scope, registry_id, created_at, expires_at) VALUES (@Name, @Hash, @Scope, @RegistryId, @now, @expires)
                RETURNING id
                """, new { t.Name, t.Hash, Scope = (int)t.Scope, t.RegistryId, now = Now(), expires = Dialect.Timestamp(t.ExpiresAt) });
            return await c.QuerySingleAsync<ApiToken>($"{TokenSelect} WHERE t.id = @id", new { id });
        }
        catch (DbException e) when (Dialect.IsUniqueViolation(e))
        {
            throw ArcaException.Conflict($"a token named '{t.Name}' already exists", "ALREADY_EXISTS");
        }
    }

    public async Task<ApiToken?> FindTokenByHashAsync(string hash, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ApiToken>($"{TokenSelect} WHERE t.hash = @hash", new { hash });
    }

    public async Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return (await c.QueryAsync<ApiToken>($"{TokenSelect} ORDER BY t.name{Dialect.BinaryCollation}")).ToList();
    }

    public async Task<bool> RevokeTokenAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.ExecuteAsync("DELETE FROM tokens WHERE id = @id", new { id }) > 0;
    }

    public async Task TouchTokenAsync(long id, DateTimeOffset usedAt, CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        await c.ExecuteAsync("UPDATE tokens SET last_used_at = @t WHERE id = @id", new { id, t = Dialect.Timestamp(usedAt) });
    }

    public async Task<bool> AnyAdminTokenAsync(CancellationToken ct = default)
    {
        await using var c = await OpenAsync(ct);
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM tokens WHERE scope = @s AND registry_id IS NULL", new { s = (int)TokenScope.Admin }) > 0;
    }

    // ---------------- Helpers shared with the OCI store ----------------

    /// <summary>Inserts the package unless it exists. Under READ COMMITTED (PostgreSQL) the INSERT waits for a
    /// concurrent insert of the same name to commit, so the SELECT after it always finds the row.</summary>
    internal async Task<long> EnsurePackageAsync(DbConnection c, DbTransaction? tx, long registryId, string name)
    {
        var now = Now();
        await c.ExecuteAsync("""
            INSERT INTO packages(registry_id, name, created_at, updated_at) VALUES (@registryId, @name, @now, @now)
            ON CONFLICT (registry_id, name) DO NOTHING
            """, new { registryId, name, now }, tx);
        return await c.ExecuteScalarAsync<long>("SELECT id FROM packages WHERE registry_id = @registryId AND name = @name", new { registryId, name }, tx);
    }

    internal async Task<(long Id, bool Created)> EnsureVersionAsync(DbConnection c, DbTransaction tx, long packageId, string version)
    {
        var now = Now();
        var inserted = await c.ExecuteAsync("""
            INSERT INTO versions(package_id, version, created_at, updated_at) VALUES (@packageId, @version, @now, @now)
            ON CONFLICT (package_id, version) DO NOTHING
            """, new { packageId, version, now }, tx);
        var id = await c.ExecuteScalarAsync<long>("SELECT id FROM versions WHERE package_id = @packageId AND version = @version", new { packageId, version }, tx);
        return (id, inserted > 0);
    }
}
