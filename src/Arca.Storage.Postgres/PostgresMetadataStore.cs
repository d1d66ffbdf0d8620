using System.Data;
using System.Data.Common;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Arca.Core.Auth;
using Arca.Core.Model;
using Arca.Core.Storage;
using Arca.Storage.Sql;
using Dapper;
using Npgsql;

namespace Arca.Storage.Postgres;

/// <summary>
/// The shared metadata store: a PostgreSQL database several stateless `arca serve` instances can use at once.
/// Same behaviour as the SQLite store (tests/Arca.Tests/Storage/*Contract.cs run against both). Where SQLite relies
/// on its single writer, this store uses unique constraints with ON CONFLICT, and row locks (FOR UPDATE) on the
/// version or repository being written, so concurrent writers on different servers still serialize per item.
/// </summary>
public sealed partial class PostgresMetadataStore : SqlMetadataStore, IMetadataStore, ISharedKeyStore, IAsyncDisposable
{
    /// <summary>Advisory lock key held while migrating ("arca-mig"), so instances starting together take turns.</summary>
    private const long MigrationLockKey = 0x617263612D6D6967;
    private const string UniqueViolation = "23505";
    private readonly NpgsqlDataSource _dataSource;

    static PostgresMetadataStore()
    {
        DefaultTypeMap.MatchNamesWithUnderscores = true;
        // Dapper type handlers are process-wide; the SQLite store registers its own (which also accept the
        // DateTime values Npgsql returns). Register ours only when nobody did, and never pass DateTimeOffset
        // parameters ourselves (always UTC DateTime), so whichever handler is active only has to read.
        if (!SqlMapper.HasTypeHandler(typeof(DateTimeOffset))) SqlMapper.AddTypeHandler(new DateTimeOffsetHandler());
        if (!SqlMapper.HasTypeHandler(typeof(DateTimeOffset?))) SqlMapper.AddTypeHandler(new NullableDateTimeOffsetHandler());
    }

    /// <param name="connectionString">A postgres:// URI or an Npgsql keyword connection string.</param>
    public PostgresMetadataStore(string connectionString) : base(PostgresDialect.Instance)
    {
        _dataSource = NpgsqlDataSource.Create(PostgresConnection.ToNpgsql(connectionString));
    }

    protected override async Task<DbConnection> OpenAsync(CancellationToken ct) => await OpenConnectionAsync(ct);

    internal async Task<NpgsqlConnection> OpenConnectionAsync(CancellationToken ct) => await _dataSource.OpenConnectionAsync(ct);

    /// <summary>Timestamps are written as UTC DateTime (timestamptz), truncated to PostgreSQL's microseconds.</summary>
    internal static DateTime Now() => Utc(DateTimeOffset.UtcNow);
    internal static DateTime Utc(DateTimeOffset t) => new(t.UtcTicks - t.UtcTicks % 10, DateTimeKind.Utc);
    internal static DateTime? Utc(DateTimeOffset? t) => t is { } v ? Utc(v) : null;

    internal static bool IsUniqueViolation(PostgresException e) => e.SqlState == UniqueViolation;

    public ValueTask DisposeAsync() => _dataSource.DisposeAsync();

    public async Task MigrateAsync(CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        // One transaction under an advisory lock: a second instance waits here, then finds every step applied.
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync("SELECT pg_advisory_xact_lock(@key)", new { key = MigrationLockKey }, tx);
        await c.ExecuteAsync("CREATE TABLE IF NOT EXISTS schema_version (version integer PRIMARY KEY, applied_at timestamptz NOT NULL)", transaction: tx);
        // Apply every step not recorded yet (not just those above the highest): steps developed side by side may land in any order.
        var applied = (await c.QueryAsync<int>("SELECT version FROM schema_version", transaction: tx)).ToHashSet();
        foreach (var (version, sql) in PostgresMigrations.Steps.Where(s => !applied.Contains(s.Version)).OrderBy(s => s.Version))
        {
            await c.ExecuteAsync(sql, transaction: tx);
            await c.ExecuteAsync("INSERT INTO schema_version(version, applied_at) VALUES (@version, @now)", new { version, now = Now() }, tx);
        }
        await tx.CommitAsync(ct);
    }

    public async Task<bool> PingAsync(CancellationToken ct = default)
    {
        try
        {
            await using var c = await OpenConnectionAsync(ct);
            return await c.ExecuteScalarAsync<int>("SELECT 1") == 1;
        }
        catch (NpgsqlException) { return false; }
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

    private const string RegistrySelect = """
        SELECT id, name, package_type, org, project, description, is_public, allow_overwrite, labels::text AS labels, created_at, updated_at
        FROM registries
        """;

    public async Task<Registry> CreateRegistryAsync(Registry r, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        var now = Now();
        try
        {
            var id = await c.ExecuteScalarAsync<long>("""
                INSERT INTO registries(name, package_type, org, project, description, is_public, allow_overwrite, labels, created_at, updated_at)
                VALUES (@Name, @PackageType, @Org, @Project, @Description, @Public, @AllowOverwrite, @Labels::jsonb, @now, @now)
                RETURNING id
                """, new { r.Name, r.PackageType, r.Org, r.Project, r.Description, r.Public, r.AllowOverwrite,
                    Labels = JsonSerializer.Serialize(r.Labels), now });
            return (await GetRegistryByIdAsync(id, ct))!;
        }
        catch (PostgresException e) when (IsUniqueViolation(e))
        {
            throw ArcaException.Conflict($"registry '{r.Name}' already exists", "ALREADY_EXISTS");
        }
    }

    public async Task<Registry?> GetRegistryAsync(string name, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<RegistryRow>($"{RegistrySelect} WHERE name = @name", new { name }))?.ToModel();
    }

    public async Task<Registry?> GetRegistryByIdAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return (await c.QuerySingleOrDefaultAsync<RegistryRow>($"{RegistrySelect} WHERE id = @id", new { id }))?.ToModel();
    }

    public async Task<Page<Registry>> ListRegistriesAsync(RegistryQuery q, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        // ILIKE and COLLATE "C": the same case-insensitive search and byte-order sorting as SQLite's LIKE and BINARY collation.
        const string where = """
            WHERE (@PackageType::text IS NULL OR package_type = @PackageType)
              AND (@Org::text IS NULL OR org = @Org)
              AND (@Project::text IS NULL OR project = @Project)
              AND (@Search::text IS NULL OR name ILIKE '%' || @Search || '%')
            """;
        var args = new { q.PackageType, q.Org, q.Project, q.Search, q.Page.PageSize, q.Page.Offset };
        var total = await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM registries {where}", args);
        var rows = await c.QueryAsync<RegistryRow>($"{RegistrySelect} {where} ORDER BY name COLLATE \"C\" LIMIT @PageSize OFFSET @Offset", args);
        return new Page<Registry>(rows.Select(r => r.ToModel()).ToList(), q.Page.Page, q.Page.PageSize, total);
    }

    public async Task<Registry> UpdateRegistryAsync(Registry r, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await c.ExecuteAsync("""
            UPDATE registries SET org = @Org, project = @Project, description = @Description, is_public = @Public,
                allow_overwrite = @AllowOverwrite, labels = @Labels::jsonb, updated_at = @now WHERE id = @Id
            """, new { r.Id, r.Org, r.Project, r.Description, r.Public, r.AllowOverwrite, Labels = JsonSerializer.Serialize(r.Labels), now = Now() });
        return (await GetRegistryByIdAsync(r.Id, ct)) ?? throw ArcaException.NotFound($"registry {r.Name} not found");
    }

    public async Task<bool> DeleteRegistryAsync(long registryId, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
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

    private const string PackageSelect = """
        SELECT p.id, p.registry_id, r.name AS registry_name, p.name, p.properties::text AS properties, p.created_at, p.updated_at,
            (SELECT COUNT(*) FROM versions v WHERE v.package_id = p.id)::integer AS version_count,
            (SELECT COALESCE(SUM(f.size), 0) FROM files f JOIN versions v ON v.id = f.version_id WHERE v.package_id = p.id)::bigint AS total_size
        FROM packages p JOIN registries r ON r.id = p.registry_id
        """;

    public async Task<Package?> GetPackageAsync(long registryId, string name, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<Package>($"{PackageSelect} WHERE p.registry_id = @registryId AND p.name = @name", new { registryId, name });
    }

    public async Task<Package> GetOrCreatePackageAsync(long registryId, string name, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await EnsurePackageAsync(c, null, registryId, name);
        return (await GetPackageAsync(registryId, name, ct))!;
    }

    /// <summary>Inserts the package unless it exists. Under READ COMMITTED the INSERT waits for a concurrent insert of
    /// the same name to commit, so the SELECT after it always finds the row.</summary>
    internal static async Task<long> EnsurePackageAsync(NpgsqlConnection c, NpgsqlTransaction? tx, long registryId, string name)
    {
        var now = Now();
        await c.ExecuteAsync("""
            INSERT INTO packages(registry_id, name, created_at, updated_at) VALUES (@registryId, @name, @now, @now)
            ON CONFLICT (registry_id, name) DO NOTHING
            """, new { registryId, name, now }, tx);
        return await c.ExecuteScalarAsync<long>("SELECT id FROM packages WHERE registry_id = @registryId AND name = @name", new { registryId, name }, tx);
    }

    internal static async Task<(long Id, bool Created)> EnsureVersionAsync(NpgsqlConnection c, NpgsqlTransaction tx, long packageId, string version)
    {
        var now = Now();
        var inserted = await c.ExecuteAsync("""
            INSERT INTO versions(package_id, version, created_at, updated_at) VALUES (@packageId, @version, @now, @now)
            ON CONFLICT (package_id, version) DO NOTHING
            """, new { packageId, version, now }, tx);
        var id = await c.ExecuteScalarAsync<long>("SELECT id FROM versions WHERE package_id = @packageId AND version = @version", new { packageId, version }, tx);
        return (id, inserted > 0);
    }

    public async Task<Page<Package>> ListPackagesAsync(long? registryId, string? search, PageRequest page, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        const string where = "WHERE (@registryId::bigint IS NULL OR p.registry_id = @registryId) AND (@search::text IS NULL OR p.name ILIKE '%' || @search || '%')";
        var args = new { registryId, search, page.PageSize, page.Offset };
        var total = await c.ExecuteScalarAsync<long>($"SELECT COUNT(*) FROM packages p {where}", args);
        var items = await c.QueryAsync<Package>($"{PackageSelect} {where} ORDER BY r.name COLLATE \"C\", p.name COLLATE \"C\" LIMIT @PageSize OFFSET @Offset", args);
        return new Page<Package>(items.ToList(), page.Page, page.PageSize, total);
    }

    public async Task SetPackagePropertiesAsync(long packageId, string? propertiesJson, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE packages SET properties = @propertiesJson::json, updated_at = @now WHERE id = @packageId", new { packageId, propertiesJson, now = Now() });
    }

    public async Task<bool> DeletePackageAsync(long packageId, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
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

    private const string VersionSelect = """
        SELECT v.id, v.package_id, p.name AS package_name, v.version, v.properties::text AS properties, v.created_at, v.updated_at,
            (SELECT COUNT(*) FROM files f WHERE f.version_id = v.id)::integer AS file_count,
            (SELECT COALESCE(SUM(f.size), 0) FROM files f WHERE f.version_id = v.id)::bigint AS total_size
        FROM versions v JOIN packages p ON p.id = v.package_id
        """;

    public async Task<PackageVersion?> GetVersionAsync(long packageId, string version, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<PackageVersion>($"{VersionSelect} WHERE v.package_id = @packageId AND v.version = @version", new { packageId, version });
    }

    public async Task<Page<PackageVersion>> ListVersionsAsync(long packageId, PageRequest page, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        var args = new { packageId, page.PageSize, page.Offset };
        var total = await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM versions WHERE package_id = @packageId", args);
        var items = await c.QueryAsync<PackageVersion>($"{VersionSelect} WHERE v.package_id = @packageId ORDER BY v.created_at, v.id LIMIT @PageSize OFFSET @Offset", args);
        return new Page<PackageVersion>(items.ToList(), page.Page, page.PageSize, total);
    }

    public async Task SetVersionPropertiesAsync(long versionId, string? propertiesJson, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE versions SET properties = @propertiesJson::json, updated_at = @now WHERE id = @versionId", new { versionId, propertiesJson, now = Now() });
    }

    public async Task<bool> DeleteVersionAsync(long versionId, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        await c.ExecuteAsync("DELETE FROM metadata WHERE level = 'Version' AND owner_id = @versionId", new { versionId }, tx);
        var n = await c.ExecuteAsync("DELETE FROM versions WHERE id = @versionId", new { versionId }, tx);
        await tx.CommitAsync(ct);
        return n > 0;
    }

    public async Task<PublishResult> PublishAsync(PublishRequest req, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var packageId = await EnsurePackageAsync(c, tx, req.RegistryId, req.PackageName);
        var (versionId, created) = await EnsureVersionAsync(c, tx, packageId, req.Version);
        // Publishes of one version serialize on its row (SQLite gets this from its single writer): the second one
        // sees the first one's files and answers Conflict instead of silently overwriting them.
        await c.ExecuteAsync("SELECT 1 FROM versions WHERE id = @versionId FOR UPDATE", new { versionId }, tx);
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
            await c.ExecuteAsync("UPDATE versions SET properties = @p::json WHERE id = @versionId", new { p = req.VersionProperties, versionId }, tx);
        if (req.PackageProperties is not null)
            await c.ExecuteAsync("UPDATE packages SET properties = @p::json WHERE id = @packageId", new { p = req.PackageProperties, packageId }, tx);
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
        await using var c = await OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<PackageFile>($"{FileSelect} WHERE version_id = @versionId AND path = @path", new { versionId, path });
    }

    public async Task<IReadOnlyList<PackageFile>> ListFilesAsync(long versionId, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return (await c.QueryAsync<PackageFile>($"{FileSelect} WHERE version_id = @versionId ORDER BY path COLLATE \"C\"", new { versionId })).ToList();
    }

    public async Task<bool> DeleteFileAsync(long versionId, string path, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return await c.ExecuteAsync("DELETE FROM files WHERE version_id = @versionId AND path = @path", new { versionId, path }) > 0;
    }

    // ---------------- Metadata ----------------

    public async Task<IReadOnlyDictionary<string, string>> GetMetadataAsync(MetadataOwner owner, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        var rows = await c.QueryAsync<(string Key, string Value)>("SELECT key, value FROM metadata WHERE level = @level AND owner_id = @Id ORDER BY key COLLATE \"C\"",
            new { level = owner.Level.ToString(), owner.Id });
        return rows.ToDictionary(r => r.Key, r => r.Value);
    }

    public async Task SetMetadataAsync(MetadataOwner owner, IReadOnlyDictionary<string, string> values, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
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
        await using var c = await OpenConnectionAsync(ct);
        var level = owner.Level.ToString();
        if (keys is null || keys.Count == 0)
            return await c.ExecuteAsync("DELETE FROM metadata WHERE level = @level AND owner_id = @Id", new { level, owner.Id });
        return await c.ExecuteAsync("DELETE FROM metadata WHERE level = @level AND owner_id = @Id AND key = ANY(@keys)",
            new { level, owner.Id, keys = keys.Distinct(StringComparer.Ordinal).ToArray() });
    }

    // ---------------- Blobs ----------------

    public async Task RecordBlobAsync(BlobRecord b, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await c.ExecuteAsync("""
            INSERT INTO blobs(digest, size, sha1, md5, created_at) VALUES (@Digest, @Size, @Sha1, @Md5, @now)
            ON CONFLICT (digest) DO UPDATE SET sha1 = COALESCE(blobs.sha1, excluded.sha1), md5 = COALESCE(blobs.md5, excluded.md5)
            """, new { b.Digest, b.Size, b.Sha1, b.Md5, now = Now() });
    }

    public async Task<BlobRecord?> GetBlobAsync(string digest, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<BlobRecord>("SELECT digest, size, sha1, md5, created_at FROM blobs WHERE digest = @digest", new { digest });
    }

    public async IAsyncEnumerable<string> ListReferencedDigestsAsync([EnumeratorCancellation] CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        // referenced_digests is a view; migrations that add format tables holding digests redefine it.
        await using var reader = await c.ExecuteReaderAsync("SELECT DISTINCT digest FROM referenced_digests");
        while (await reader.ReadAsync(ct)) yield return reader.GetString(0);
    }

    public async Task<bool> IsBlobReferencedAsync(string digest, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return await c.ExecuteScalarAsync<int?>("SELECT 1 FROM referenced_digests WHERE digest = @digest LIMIT 1", new { digest }) is not null;
    }

    public async Task ForgetBlobAsync(string digest, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await c.ExecuteAsync("DELETE FROM blobs WHERE digest = @digest", new { digest });
    }

    // ---------------- Tokens ----------------

    private const string TokenSelect = """
        SELECT t.id, t.name, t.hash, t.scope, t.registry_id, r.name AS registry_name, t.created_at, t.expires_at, t.last_used_at
        FROM tokens t LEFT JOIN registries r ON r.id = t.registry_id
        """;

    public async Task<ApiToken> CreateTokenAsync(ApiToken t, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        try
        {
            var id = await c.ExecuteScalarAsync<long>("""
                INSERT INTO tokens(name, hash, scope, registry_id, created_at, expires_at) VALUES (@Name, @Hash, @Scope, @RegistryId, @now, @expires)
                RETURNING id
                """, new { t.Name, t.Hash, Scope = (int)t.Scope, t.RegistryId, now = Now(), expires = Utc(t.ExpiresAt) });
            return await c.QuerySingleAsync<ApiToken>($"{TokenSelect} WHERE t.id = @id", new { id });
        }
        catch (PostgresException e) when (IsUniqueViolation(e))
        {
            throw ArcaException.Conflict($"a token named '{t.Name}' already exists", "ALREADY_EXISTS");
        }
    }

    public async Task<ApiToken?> FindTokenByHashAsync(string hash, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return await c.QuerySingleOrDefaultAsync<ApiToken>($"{TokenSelect} WHERE t.hash = @hash", new { hash });
    }

    public async Task<IReadOnlyList<ApiToken>> ListTokensAsync(CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return (await c.QueryAsync<ApiToken>($"{TokenSelect} ORDER BY t.name COLLATE \"C\"")).ToList();
    }

    public async Task<bool> RevokeTokenAsync(long id, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return await c.ExecuteAsync("DELETE FROM tokens WHERE id = @id", new { id }) > 0;
    }

    public async Task TouchTokenAsync(long id, DateTimeOffset usedAt, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await c.ExecuteAsync("UPDATE tokens SET last_used_at = @t WHERE id = @id", new { id, t = Utc(usedAt) });
    }

    public async Task<bool> AnyAdminTokenAsync(CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        return await c.ExecuteScalarAsync<long>("SELECT COUNT(*) FROM tokens WHERE scope = @s AND registry_id IS NULL", new { s = (int)TokenScope.Admin }) > 0;
    }

    // ---------------- Shared server keys ----------------

    public async Task<byte[]> GetOrAddKeyAsync(string name, byte[] candidate, CancellationToken ct = default)
    {
        await using var c = await OpenConnectionAsync(ct);
        await c.ExecuteAsync("INSERT INTO server_keys(name, value, created_at) VALUES (@name, @candidate, @now) ON CONFLICT (name) DO NOTHING",
            new { name, candidate, now = Now() });
        return await c.ExecuteScalarAsync<byte[]>("SELECT value FROM server_keys WHERE name = @name", new { name })
            ?? throw new InvalidOperationException($"server key '{name}' vanished");
    }

    /// <summary>Reads timestamptz (a UTC DateTime from Npgsql) into DateTimeOffset.</summary>
    internal static DateTimeOffset ToOffset(object value) => value switch
    {
        DateTimeOffset d => d,
        DateTime dt => new DateTimeOffset(DateTime.SpecifyKind(dt, DateTimeKind.Utc)),
        _ => throw new DataException($"cannot read {value.GetType().Name} as a timestamp"),
    };

    private sealed class DateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset value) => parameter.Value = Utc(value);
        public override DateTimeOffset Parse(object value) => ToOffset(value);
    }

    private sealed class NullableDateTimeOffsetHandler : SqlMapper.TypeHandler<DateTimeOffset?>
    {
        public override void SetValue(IDbDataParameter parameter, DateTimeOffset? value) => parameter.Value = Utc(value) is { } v ? v : DBNull.Value;
        public override DateTimeOffset? Parse(object value) => value is DBNull ? null : ToOffset(value);
    }
}
