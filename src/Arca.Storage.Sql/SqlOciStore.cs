using System.Data.Common;
using System.Text.Json;
using Arca.Core.Model;
using Arca.Core.Storage;
using Dapper;

namespace Arca.Storage.Sql;

/// <summary>The OCI tables (migration step 2) over any SQL engine. Every write also re-derives the repository's
/// package versions in the same transaction, so the generic views never disagree with the tags. Writes to one
/// repository lock its package row first (on engines with row locks; SQLite has a single writer): the re-derivation
/// reads the whole repository, and two servers pushing tags of the same repository at once must not each miss the
/// other's tag.</summary>
public abstract class SqlOciStore(SqlMetadataStore store) : IOciMetadataStore
{
    private SqlDialect Dialect => store.Dialect;

    private string ManifestSelect => $"""
        SELECT m.package_id, m.digest, m.media_type, m.artifact_type, m.subject_digest, m.size, m.annotations{Dialect.TextCast} AS annotations,
               m.version_properties{Dialect.TextCast} AS version_properties, m.version_files{Dialect.TextCast} AS version_files, m.created_at
        FROM oci_manifests m
        """;

    /// <summary>The repository's package id; inside a write transaction its row is also locked until commit.</summary>
    private Task<long?> FindPackageAsync(DbConnection c, DbTransaction? tx, long registryId, string repository) =>
        c.ExecuteScalarAsync<long?>($"SELECT id FROM packages WHERE registry_id = @registryId AND name = @repository{(tx is null ? "" : Dialect.ForUpdate)}",
            new { registryId, repository }, tx);

    public async Task LinkBlobAsync(long registryId, string repository, string digest, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        await c.ExecuteAsync(Dialect.InsertIgnoringDuplicates("INSERT INTO oci_blob_links(registry_id, repository, digest, created_at) VALUES (@registryId, @repository, @digest, @now)"),
            new { registryId, repository, digest, now = Dialect.Now() });
    }

    public async Task<bool> UnlinkBlobAsync(long registryId, string repository, string digest, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        return await c.ExecuteAsync("DELETE FROM oci_blob_links WHERE registry_id = @registryId AND repository = @repository AND digest = @digest",
            new { registryId, repository, digest }) > 0;
    }

    public async Task<bool> IsBlobLinkedAsync(long registryId, string repository, string digest, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long?>("SELECT 1 FROM oci_blob_links WHERE registry_id = @registryId AND repository = @repository AND digest = @digest",
            new { registryId, repository, digest }) is not null;
    }

    public async Task<bool> IsBlobInRegistryAsync(long registryId, string digest, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        return await c.ExecuteScalarAsync<long?>("SELECT 1 FROM oci_blob_links WHERE registry_id = @registryId AND digest = @digest LIMIT 1",
            new { registryId, digest }) is not null;
    }

    public async Task<OciManifest?> GetManifestAsync(long registryId, string repository, string digest, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        return await c.QuerySingleOrDefaultAsync<OciManifest>($"""
            {ManifestSelect} JOIN packages p ON p.id = m.package_id
            WHERE p.registry_id = @registryId AND p.name = @repository AND m.digest = @digest
            """, new { registryId, repository, digest });
    }

    public async Task<string?> ResolveTagAsync(long registryId, string repository, string tag, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        return await c.ExecuteScalarAsync<string?>("""
            SELECT t.manifest_digest FROM oci_tags t JOIN packages p ON p.id = t.package_id
            WHERE p.registry_id = @registryId AND p.name = @repository AND t.tag = @tag
            """, new { registryId, repository, tag });
    }

    public async Task<IReadOnlyList<OciReference>> ListReferencesAsync(long packageId, string manifestDigest, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        var rows = await c.QueryAsync<(string RefDigest, bool IsManifest)>(
            "SELECT ref_digest, is_manifest FROM oci_manifest_refs WHERE package_id = @packageId AND manifest_digest = @manifestDigest",
            new { packageId, manifestDigest });
        return rows.Select(r => new OciReference(r.RefDigest, r.IsManifest)).ToList();
    }

    public async Task PutManifestAsync(OciManifestWrite w, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var now = Dialect.Now();
        var packageId = await store.EnsurePackageAsync(c, tx, w.RegistryId, w.Repository);
        await Dialect.LockRowsAsync(c, tx, "packages", [packageId]);
        var m = w.Manifest;
        await c.ExecuteAsync($"""
            INSERT INTO oci_manifests(package_id, digest, media_type, artifact_type, subject_digest, size, annotations, version_properties, version_files, created_at)
            VALUES (@packageId, @Digest, @MediaType, @ArtifactType, @SubjectDigest, @Size, @Annotations{Dialect.JsonCast}, @VersionProperties{Dialect.JsonCast}, @VersionFiles{Dialect.JsonCast}, @now)
            ON CONFLICT (package_id, digest) DO UPDATE SET version_properties = excluded.version_properties, version_files = excluded.version_files
            """, new { packageId, m.Digest, m.MediaType, m.ArtifactType, m.SubjectDigest, m.Size, m.Annotations, m.VersionProperties, m.VersionFiles, now }, tx);
        // The manifest itself is also a blob of the repository (clients may fetch it through the blobs endpoint).
        await c.ExecuteAsync(Dialect.InsertIgnoringDuplicates("INSERT INTO oci_blob_links(registry_id, repository, digest, created_at) VALUES (@RegistryId, @Repository, @Digest, @now)"),
            new { w.RegistryId, w.Repository, m.Digest, now }, tx);
        foreach (var r in w.References)
        {
            await c.ExecuteAsync(Dialect.InsertIgnoringDuplicates("INSERT INTO oci_manifest_refs(package_id, manifest_digest, ref_digest, is_manifest) VALUES (@packageId, @manifest, @digest, @isManifest)"),
                new { packageId, manifest = m.Digest, digest = r.Digest, isManifest = r.IsManifest }, tx);
            if (!r.IsManifest)
                await c.ExecuteAsync(Dialect.InsertIgnoringDuplicates("INSERT INTO oci_blob_links(registry_id, repository, digest, created_at) VALUES (@RegistryId, @Repository, @digest, @now)"),
                    new { w.RegistryId, w.Repository, digest = r.Digest, now }, tx);
        }
        if (w.Tag is not null)
            await c.ExecuteAsync("""
                INSERT INTO oci_tags(package_id, tag, manifest_digest, updated_at) VALUES (@packageId, @Tag, @Digest, @now)
                ON CONFLICT (package_id, tag) DO UPDATE SET manifest_digest = excluded.manifest_digest, updated_at = excluded.updated_at
                """, new { packageId, w.Tag, m.Digest, now }, tx);
        await SyncVersionsAsync(c, tx, packageId);
        await tx.CommitAsync(ct);
    }

    public async Task<bool> DeleteTagAsync(long registryId, string repository, string tag, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var packageId = await FindPackageAsync(c, tx, registryId, repository);
        if (packageId is null) return false;
        var n = await c.ExecuteAsync("DELETE FROM oci_tags WHERE package_id = @packageId AND tag = @tag", new { packageId, tag }, tx);
        if (n > 0) await SyncVersionsAsync(c, tx, packageId.Value);
        await tx.CommitAsync(ct);
        return n > 0;
    }

    public async Task<bool> DeleteManifestAsync(long registryId, string repository, string digest, bool cascadeChildren, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var packageId = await FindPackageAsync(c, tx, registryId, repository);
        if (packageId is null) return false;
        var deleted = await DeleteManifestRowAsync(c, tx, packageId.Value, digest, cascadeChildren);
        if (deleted) await SyncVersionsAsync(c, tx, packageId.Value);
        await tx.CommitAsync(ct);
        return deleted;
    }

    private async Task<bool> DeleteManifestRowAsync(DbConnection c, DbTransaction tx, long packageId, string digest, bool cascadeChildren)
    {
        var children = (await c.QueryAsync<string>(
            $"SELECT ref_digest FROM oci_manifest_refs WHERE package_id = @packageId AND manifest_digest = @digest AND {Dialect.IsTrue("is_manifest")}",
            new { packageId, digest }, tx)).ToList();
        var n = await c.ExecuteAsync("DELETE FROM oci_manifests WHERE package_id = @packageId AND digest = @digest", new { packageId, digest }, tx);
        if (n == 0) return false;
        if (!cascadeChildren) return true;
        foreach (var child in children)
        {
            var stillNeeded = await c.ExecuteScalarAsync<long?>($"""
                SELECT 1 WHERE EXISTS (SELECT 1 FROM oci_tags WHERE package_id = @packageId AND manifest_digest = @child)
                   OR EXISTS (SELECT 1 FROM oci_manifest_refs WHERE package_id = @packageId AND ref_digest = @child AND {Dialect.IsTrue("is_manifest")})
                """, new { packageId, child }, tx);
            if (stillNeeded is null) await DeleteManifestRowAsync(c, tx, packageId, child, true);
        }
        return true;
    }

    public async Task<IReadOnlyList<string>?> ListTagsAsync(long registryId, string repository, string? last, int limit, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        var packageId = await FindPackageAsync(c, null, registryId, repository);
        if (packageId is null) return null;
        var tags = await c.QueryAsync<string>($"""
            SELECT tag FROM oci_tags WHERE package_id = @packageId AND (@last{Dialect.TextCast} IS NULL OR tag{Dialect.BinaryCollation} > @last) ORDER BY tag{Dialect.BinaryCollation} LIMIT @limit
            """, new { packageId, last, limit });
        return tags.ToList();
    }

    public async Task<IReadOnlyList<(string Tag, string Digest)>> ListTagDigestsAsync(long packageId, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        var rows = await c.QueryAsync<(string, string)>($"SELECT tag, manifest_digest FROM oci_tags WHERE package_id = @packageId ORDER BY tag{Dialect.BinaryCollation}", new { packageId });
        return rows.ToList();
    }

    public async Task<IReadOnlyList<OciManifest>> ListReferrersAsync(long registryId, string repository, string subjectDigest, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        var rows = await c.QueryAsync<OciManifest>($"""
            {ManifestSelect} JOIN packages p ON p.id = m.package_id
            WHERE p.registry_id = @registryId AND p.name = @repository AND m.subject_digest = @subjectDigest
            ORDER BY m.created_at, m.digest{Dialect.BinaryCollation}
            """, new { registryId, repository, subjectDigest });
        return rows.ToList();
    }

    /// <summary>Untagged manifests that nothing keeps alive: not a child of another manifest, and not a referrer of a
    /// manifest that still exists.</summary>
    private string PrunableSelect => $"""
        SELECT m.package_id, m.digest FROM oci_manifests m
        WHERE NOT EXISTS (SELECT 1 FROM oci_tags t WHERE t.package_id = m.package_id AND t.manifest_digest = m.digest)
          AND NOT EXISTS (SELECT 1 FROM oci_manifest_refs r WHERE r.package_id = m.package_id AND r.ref_digest = m.digest AND {Dialect.IsTrue("r.is_manifest")})
          AND (m.subject_digest IS NULL OR NOT EXISTS (SELECT 1 FROM oci_manifests s WHERE s.package_id = m.package_id AND s.digest = m.subject_digest))
        """;

    public async Task<int> PruneUntaggedAsync(bool dryRun, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        await using var tx = await c.BeginTransactionAsync(ct);
        var total = 0;
        var touched = new HashSet<long>();
        var locked = new HashSet<long>();
        while (true)
        {
            var batch = (await c.QueryAsync<(long PackageId, string Digest)>(PrunableSelect, transaction: tx)).ToList();
            if (batch.Count == 0) break;
            if (dryRun) { total = batch.Count; break; } // counting the first round is enough for a dry run
            // Lock the repositories (in id order, before any manifest row) like a push does, then look again: a
            // push on another server may have tagged one of these manifests meanwhile. (No-op on a single-writer engine.)
            var toLock = batch.Select(m => m.PackageId).Where(id => !locked.Contains(id)).Distinct().Order().ToArray();
            if (toLock.Length > 0)
            {
                await Dialect.LockRowsAsync(c, tx, "packages", toLock);
                locked.UnionWith(toLock);
                continue;
            }
            total += batch.Count;
            foreach (var (packageId, digest) in batch)
            {
                await DeleteManifestRowAsync(c, tx, packageId, digest, false);
                touched.Add(packageId);
            }
        }
        foreach (var packageId in touched) await SyncVersionsAsync(c, tx, packageId);
        if (dryRun) await tx.RollbackAsync(ct); else await tx.CommitAsync(ct);
        return total;
    }

    public async Task DeleteRepositoryLinksAsync(long registryId, string repository, CancellationToken ct = default)
    {
        await using var c = await store.OpenAsync(ct);
        await c.ExecuteAsync("DELETE FROM oci_blob_links WHERE registry_id = @registryId AND repository = @repository", new { registryId, repository });
    }

    /// <summary>Re-derives the package's versions from tags and manifests: one version per tag, one per untagged
    /// top-level manifest (named by digest). Versions not created by this store (no "digest"/"mediaType" properties)
    /// are left alone; an empty package is removed.</summary>
    private async Task SyncVersionsAsync(DbConnection c, DbTransaction tx, long packageId)
    {
        var desired = new Dictionary<string, (string Props, string Files)>(StringComparer.Ordinal);
        foreach (var (tag, props, files) in await c.QueryAsync<(string, string, string)>($"""
            SELECT t.tag, m.version_properties{Dialect.TextCast}, m.version_files{Dialect.TextCast} FROM oci_tags t
            JOIN oci_manifests m ON m.package_id = t.package_id AND m.digest = t.manifest_digest WHERE t.package_id = @packageId
            """, new { packageId }, tx))
            desired[tag] = (props, files);
        foreach (var (digest, props, files) in await c.QueryAsync<(string, string, string)>($"""
            SELECT m.digest, m.version_properties{Dialect.TextCast}, m.version_files{Dialect.TextCast} FROM oci_manifests m
            WHERE m.package_id = @packageId
              AND NOT EXISTS (SELECT 1 FROM oci_tags t WHERE t.package_id = m.package_id AND t.manifest_digest = m.digest)
              AND NOT EXISTS (SELECT 1 FROM oci_manifest_refs r WHERE r.package_id = m.package_id AND r.ref_digest = m.digest AND {Dialect.IsTrue("r.is_manifest")})
            """, new { packageId }, tx))
            desired[digest] = (props, files);

        var current = (await c.QueryAsync<(long Id, string Version, string? Props)>(
            $"SELECT id, version, properties{Dialect.TextCast} FROM versions WHERE package_id = @packageId", new { packageId }, tx)).ToList();
        foreach (var (id, version, props) in current)
        {
            if (desired.ContainsKey(version) || !IsOciVersion(props)) continue;
            await c.ExecuteAsync("DELETE FROM metadata WHERE level = 'Version' AND owner_id = @id; DELETE FROM versions WHERE id = @id;", new { id }, tx);
        }
        var now = Dialect.Now();
        foreach (var (version, (props, files)) in desired)
        {
            var existing = current.FirstOrDefault(v => v.Version == version);
            if (existing.Version is not null && existing.Props == props) continue;
            var (versionId, _) = await store.EnsureVersionAsync(c, tx, packageId, version);
            await c.ExecuteAsync($"UPDATE versions SET properties = @props{Dialect.JsonCast}, updated_at = @now WHERE id = @versionId; DELETE FROM files WHERE version_id = @versionId;",
                new { props, now, versionId }, tx);
            foreach (var f in JsonSerializer.Deserialize<List<NewFile>>(files) ?? [])
                await c.ExecuteAsync("""
                    INSERT INTO files(version_id, path, blob_digest, size, content_type, sha1, md5, created_at)
                    VALUES (@versionId, @Path, @BlobDigest, @Size, @ContentType, NULL, NULL, @now)
                    """, new { versionId, f.Path, f.BlobDigest, f.Size, f.ContentType, now }, tx);
        }
        var anyManifest = await c.ExecuteScalarAsync<long?>("SELECT 1 FROM oci_manifests WHERE package_id = @packageId LIMIT 1", new { packageId }, tx);
        var anyVersion = await c.ExecuteScalarAsync<long?>("SELECT 1 FROM versions WHERE package_id = @packageId LIMIT 1", new { packageId }, tx);
        if (anyManifest is null && anyVersion is null)
            await c.ExecuteAsync("DELETE FROM metadata WHERE level = 'Package' AND owner_id = @packageId; DELETE FROM packages WHERE id = @packageId;", new { packageId }, tx);
        else
            await c.ExecuteAsync("UPDATE packages SET updated_at = @now WHERE id = @packageId", new { now, packageId }, tx);
    }

    private static bool IsOciVersion(string? props)
    {
        if (string.IsNullOrEmpty(props)) return false;
        try
        {
            using var doc = JsonDocument.Parse(props);
            return doc.RootElement.ValueKind == JsonValueKind.Object
                && doc.RootElement.TryGetProperty("digest", out _) && doc.RootElement.TryGetProperty("mediaType", out _);
        }
        catch (JsonException) { return false; }
    }
}
