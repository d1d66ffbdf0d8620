namespace Arca.Storage.Sqlite;

/// <summary>Schema migrations, applied in order and recorded in schema_version. Never edit a shipped step: add one.</summary>
internal static class Migrations
{
    public static readonly IReadOnlyList<(int Version, string Sql)> Steps =
    [
        (1, """
            CREATE TABLE registries (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                package_type TEXT NOT NULL,
                org TEXT NULL,
                project TEXT NULL,
                description TEXT NULL,
                is_public INTEGER NOT NULL DEFAULT 0,
                allow_overwrite INTEGER NOT NULL DEFAULT 0,
                labels TEXT NOT NULL DEFAULT '[]',
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE TABLE packages (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                properties TEXT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (registry_id, name)
            );
            CREATE TABLE versions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
                version TEXT NOT NULL,
                properties TEXT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                UNIQUE (package_id, version)
            );
            CREATE TABLE files (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                version_id INTEGER NOT NULL REFERENCES versions(id) ON DELETE CASCADE,
                path TEXT NOT NULL,
                blob_digest TEXT NOT NULL,
                size INTEGER NOT NULL,
                content_type TEXT NULL,
                sha1 TEXT NULL,
                md5 TEXT NULL,
                created_at TEXT NOT NULL,
                UNIQUE (version_id, path)
            );
            CREATE INDEX ix_files_blob ON files(blob_digest);
            CREATE TABLE blobs (
                digest TEXT PRIMARY KEY,
                size INTEGER NOT NULL,
                sha1 TEXT NULL,
                md5 TEXT NULL,
                created_at TEXT NOT NULL
            );
            CREATE TABLE metadata (
                level TEXT NOT NULL,
                owner_id INTEGER NOT NULL,
                key TEXT NOT NULL,
                value TEXT NOT NULL,
                PRIMARY KEY (level, owner_id, key)
            );
            CREATE TABLE tokens (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                hash TEXT NOT NULL UNIQUE,
                scope INTEGER NOT NULL,
                registry_id INTEGER NULL REFERENCES registries(id) ON DELETE CASCADE,
                created_at TEXT NOT NULL,
                expires_at TEXT NULL,
                last_used_at TEXT NULL
            );
            CREATE VIEW referenced_digests AS SELECT blob_digest AS digest FROM files;
            """),
        (2, """
            -- OCI (DOCKER/HELM): manifests per repository (= package), their references, tags, and blobs linked to
            -- a repository by an upload or a mount. Versions/files rows are kept in sync with these tables.
            CREATE TABLE oci_manifests (
                package_id INTEGER NOT NULL REFERENCES packages(id) ON DELETE CASCADE,
                digest TEXT NOT NULL,
                media_type TEXT NOT NULL,
                artifact_type TEXT NULL,
                subject_digest TEXT NULL,
                size INTEGER NOT NULL,
                annotations TEXT NULL,
                version_properties TEXT NOT NULL,
                version_files TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (package_id, digest)
            );
            CREATE INDEX ix_oci_manifests_subject ON oci_manifests(package_id, subject_digest);
            CREATE INDEX ix_oci_manifests_digest ON oci_manifests(digest);
            CREATE TABLE oci_manifest_refs (
                package_id INTEGER NOT NULL,
                manifest_digest TEXT NOT NULL,
                ref_digest TEXT NOT NULL,
                is_manifest INTEGER NOT NULL,
                PRIMARY KEY (package_id, manifest_digest, ref_digest),
                FOREIGN KEY (package_id, manifest_digest) REFERENCES oci_manifests(package_id, digest) ON DELETE CASCADE
            );
            CREATE INDEX ix_oci_refs_ref ON oci_manifest_refs(ref_digest);
            CREATE TABLE oci_tags (
                package_id INTEGER NOT NULL,
                tag TEXT NOT NULL,
                manifest_digest TEXT NOT NULL,
                updated_at TEXT NOT NULL,
                PRIMARY KEY (package_id, tag),
                FOREIGN KEY (package_id, manifest_digest) REFERENCES oci_manifests(package_id, digest) ON DELETE CASCADE
            );
            CREATE TABLE oci_blob_links (
                registry_id INTEGER NOT NULL REFERENCES registries(id) ON DELETE CASCADE,
                repository TEXT NOT NULL,
                digest TEXT NOT NULL,
                created_at TEXT NOT NULL,
                PRIMARY KEY (registry_id, repository, digest)
            );
            CREATE INDEX ix_oci_blob_links_digest ON oci_blob_links(registry_id, digest);
            DROP VIEW referenced_digests;
            CREATE VIEW referenced_digests AS
                SELECT blob_digest AS digest FROM files
                UNION ALL SELECT digest FROM oci_manifests
                UNION ALL SELECT ref_digest FROM oci_manifest_refs;
            """),
        // 3: replication endpoints (connectors). `secret` holds the AES-GCM ciphertext of the password/token, never clear text.
        (3, """
            CREATE TABLE endpoints (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                provider TEXT NOT NULL,
                url TEXT NOT NULL,
                username TEXT NULL,
                secret TEXT NULL,
                verify_remote_cert INTEGER NOT NULL DEFAULT 1,
                description TEXT NULL,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            """),
        // 4: replication rules, their executions and the tasks of each execution (history survives restarts).
        (4, """
            CREATE TABLE replication_rules (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                name TEXT NOT NULL UNIQUE,
                endpoint TEXT NOT NULL,
                direction TEXT NOT NULL,
                source_filter TEXT NOT NULL,
                tag_filter TEXT NULL,
                labels TEXT NOT NULL DEFAULT '[]',
                destination_registry TEXT NULL,
                destination_namespace TEXT NULL,
                destination_namespace_replace_count INTEGER NOT NULL DEFAULT -1,
                override INTEGER NOT NULL DEFAULT 0,
                cron TEXT NULL,
                enabled INTEGER NOT NULL DEFAULT 1,
                created_at TEXT NOT NULL,
                updated_at TEXT NOT NULL
            );
            CREATE INDEX ix_replication_rules_endpoint ON replication_rules(endpoint);
            CREATE TABLE replication_executions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                rule TEXT NOT NULL,
                trigger TEXT NOT NULL,
                status TEXT NOT NULL,
                started_at TEXT NOT NULL,
                ended_at TEXT NULL,
                total INTEGER NOT NULL DEFAULT 0,
                succeeded INTEGER NOT NULL DEFAULT 0,
                failed INTEGER NOT NULL DEFAULT 0,
                skipped INTEGER NOT NULL DEFAULT 0,
                bytes INTEGER NOT NULL DEFAULT 0,
                error TEXT NULL
            );
            CREATE INDEX ix_replication_executions_rule ON replication_executions(rule, id);
            CREATE TABLE replication_tasks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                execution_id INTEGER NOT NULL REFERENCES replication_executions(id) ON DELETE CASCADE,
                source TEXT NOT NULL,
                destination TEXT NOT NULL,
                status TEXT NOT NULL,
                digest TEXT NULL,
                started_at TEXT NULL,
                ended_at TEXT NULL,
                bytes INTEGER NOT NULL DEFAULT 0,
                error TEXT NULL
            );
            CREATE INDEX ix_replication_tasks_execution ON replication_tasks(execution_id);
            """),
    ];
}
