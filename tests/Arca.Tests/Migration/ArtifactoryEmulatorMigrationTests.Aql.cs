using System.Text.RegularExpressions;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;
using Arca.Migration.Sources;
using static Arca.Tests.Migration.OciMigrationSupport;

namespace Arca.Tests.Migration;

/// <summary>AQL listing (paging, trimming servers, servers ignoring offset, names needing escaping) and its storage-list
/// fallback, against the Artifactory EMULATOR.</summary>
public sealed partial class ArtifactoryEmulatorMigrationTests
{
    private ArtifactorySource Source(int pageSize) =>
        new(new EndpointConfig { Endpoint = _jfrog.BaseUrl, Type = "JFROG", Username = User, Password = Password }) { AqlPageSize = pageSize };

    private static MappingConfig GenericMapping(string repo) => new() { ArtifactType = "GENERIC", SourceRegistry = repo, DestinationRegistry = "files" };

    private static IAsyncEnumerable<MigrationItem> List(ArtifactorySource source, MappingConfig mapping) =>
        source.ListAsync(mapping, new PackageFilter([], []), CancellationToken.None);

    /// <summary>(offset, limit) of every AQL query the emulator received, in order.</summary>
    private List<(int Offset, int Limit)> AqlPages() => _jfrog.AqlQueries
        .Select(q => Regex.Match(q, @"\.offset\((\d+)\)\.limit\((\d+)\)$"))
        .Select(m => (int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value))).ToList();

    private Dictionary<string, string> PutEscapingNames() => new()
    {
        ["tools/1.0/a.bin"] = Put("files-local", "tools/1.0/a.bin", 3000),
        ["tools/1.0/my file+1 ü.txt"] = Put("files-local", "tools/1.0/my file+1 ü.txt", 100),
        ["tools/1.0/say \"hi\".txt"] = Put("files-local", "tools/1.0/say \"hi\".txt", 100),
        ["tools/2.0/b.bin"] = Put("files-local", "tools/2.0/b.bin", 2000),
        ["zeta/9/c.bin"] = Put("files-local", "zeta/9/c.bin", 10),
    };

    [Fact]
    public async Task Aql_listing_reads_one_page_at_a_time_with_root_files_and_names_needing_escaping()
    {
        var files = PutEscapingNames();
        Put("files-local", "loose.txt", 10); // a root file: AQL path "."

        using var source = Source(pageSize: 2);
        await using (var items = List(source, GenericMapping("files-local")).GetAsyncEnumerator())
        {
            Assert.True(await items.MoveNextAsync());
            // The first item is yielded after the first page alone: nothing more was read ahead.
            Assert.Equal([(0, 2)], AqlPages());
            var all = new List<MigrationItem> { items.Current };
            while (await items.MoveNextAsync()) all.Add(items.Current);

            // 6 files in pages of 2: offsets 0, 2, 4 are full, offset 6 is empty and ends the listing.
            Assert.Equal([(0, 2), (2, 2), (4, 2), (6, 2)], AqlPages());
            Assert.Equal(6, all.Count);
            var root = Assert.IsType<RejectedItem>(Assert.Single(all, i => i.Display == "loose.txt"));
            Assert.Contains("<package>/<version>/<path>", root.ListingError);
            var generic = all.OfType<GenericFileItem>().ToDictionary(i => $"{i.Package}/{i.Version}/{i.Path}", i => i.Sha256);
            Assert.Equal(files.OrderBy(f => f.Key), generic.OrderBy(f => f.Key));
        }
        Assert.All(_jfrog.AqlQueries, q => Assert.StartsWith(
            "items.find({\"repo\":\"files-local\",\"type\":\"file\"}).include(\"repo\",\"path\",\"name\",\"size\",\"actual_sha1\",\"sha256\").sort({\"$asc\":[\"path\",\"name\"]})", q));
        Assert.Contains(_jfrog.Server.Requests, r => r.Method == "GET" && r.Path == "/artifactory/api/repositories/files-local");

        // A server trimming results (a non-admin user's query limit) is paged by what it returns.
        _jfrog.AqlQueries.Clear();
        _jfrog.AqlUserQueryLimit = 1;
        var count = 0;
        await foreach (var _ in List(source, GenericMapping("files-local"))) count++;
        Assert.Equal(6, count);
        Assert.Equal(Enumerable.Range(0, 7).Select(o => (o, 2)), AqlPages());

        // A server ignoring offset would repeat the first page forever: the listing fails instead.
        _jfrog.AqlUserQueryLimit = null;
        _jfrog.AqlIgnoresOffset = true;
        var seen = new List<MigrationItem>();
        var error = await Assert.ThrowsAsync<InvalidDataException>(async () => { await foreach (var i in List(source, GenericMapping("files-local"))) seen.Add(i); });
        Assert.Contains("ignores offset", error.Message);
        Assert.Equal(2, seen.Count);
    }

    [Theory]
    [InlineData("libs-release-local")]
    [InlineData("odd \"key\" with \\ and ü+")]
    public void A_repository_key_is_written_as_a_json_string_the_aql_parser_reads_back(string key)
    {
        var query = ArtifactoryAql.Parse($"items.find({{\"repo\":{ArtifactorySource.AqlString(key)},\"type\":\"file\"}}).offset(0).limit(5)");
        Assert.Equal(key, query.Repo);
        Assert.Equal((0, 5), (query.Offset, query.Limit));
        Assert.Throws<ArgumentException>(() => ArtifactorySource.AqlString("bad\nkey"));
    }

    [Fact]
    public async Task Files_listed_by_aql_with_names_needing_escaping_migrate_and_a_rerun_downloads_nothing()
    {
        var files = PutEscapingNames();
        var config = Config($"{"{"} username: {User}, password: {Password} {"}"}", """
              - artifactType: GENERIC
                sourceRegistry: files-local
                destinationRegistry: files
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("AQL-listed generic migration");
        Assert.Equal(files.Count, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        foreach (var (path, sha256) in files)
        {
            var s = path.Split('/');
            Assert.Equal(sha256, await Sha256OfAsync($"pkg/files/generic/{s[0]}/{s[1]}/" + string.Join('/', s[2..].Select(Uri.EscapeDataString))));
        }
        Assert.Equal([(0, 1000)], AqlPages());

        _jfrog.Server.Requests.Clear();
        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun");
        Assert.Equal(files.Count, Mapping(second, 0).GetProperty("skipped").GetInt32());
        Assert.Equal(0, Mapping(second, 0).GetProperty("bytes").GetInt64());
        // AQL's sha256 decides the skip: no file was downloaded again.
        Assert.DoesNotContain(_jfrog.Server.Requests, r => !r.Path.StartsWith("/artifactory/api/", StringComparison.Ordinal));
    }

    [Fact]
    public async Task When_aql_is_refused_the_storage_list_is_used_and_when_both_are_refused_the_mapping_fails_naming_both()
    {
        // A user without AQL and without the right to read repository configurations (so no repository check either).
        _jfrog.AqlForbidden = true;
        _jfrog.RepositoryConfigForbidden = true;
        var maven = new Dictionary<string, string>
        {
            ["com/acme/util/1.0/util-1.0.pom"] = Put("libs-release-local", "com/acme/util/1.0/util-1.0.pom", System.Text.Encoding.UTF8.GetBytes(
                "<project><modelVersion>4.0.0</modelVersion><groupId>com.acme</groupId><artifactId>util</artifactId><version>1.0</version></project>")),
            ["com/acme/util/1.0/util-1.0.jar"] = Put("libs-release-local", "com/acme/util/1.0/util-1.0.jar", Jar(8 * 1024)),
        };
        var config = Config($"{"{"} username: {User}, password: {Password} {"}"}", """
              - artifactType: MAVEN
                sourceRegistry: libs-release-local
                destinationRegistry: libs
            """);
        var first = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        first.AssertOk("maven migration through the storage list");
        Assert.Equal(maven.Count, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        foreach (var (path, sha256) in maven) Assert.Equal(sha256, await Sha256OfAsync($"pkg/libs/maven/{path}"));
        var seen = _jfrog.Server.Requests.ToList();
        Assert.Contains(seen, r => r.Method == "POST" && r.Path == "/artifactory/api/search/aql");
        Assert.Contains(seen, r => r.Path == "/artifactory/api/storage/libs-release-local?list&deep=1&listFolders=0");

        var second = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--format", "json");
        second.AssertOk("rerun through the storage list");
        Assert.Equal(maven.Count, Mapping(second, 0).GetProperty("skipped").GetInt32());

        _jfrog.StorageListForbidden = true;
        var report = Path.Combine(_work, "both-refused.json");
        var failed = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, failed.ExitCode);
        var error = Assert.Single(ReportItems(report)).GetProperty("error").GetString();
        Assert.Contains("POST api/search/aql answered 403", error);
        Assert.Contains("storage list fallback failed too", error);
    }

    [Fact]
    public async Task Virtual_remote_missing_and_mismatched_repositories_are_refused_with_what_to_migrate_instead()
    {
        _jfrog.AddRepository("libs-virtual", "virtual", "maven", "libs-release-local", "libs-snapshot-local");
        _jfrog.AddRepository("npm-remote", "remote", "npm");
        var cached = Put("npm-remote-cache", "left-pad/1.0/left-pad-1.0.tgz", 500); // a remote's cache: listable, not configured
        Put("npm-local", "left-pad/-/left-pad-1.0.0.tgz", 100);
        var config = Config($"{"{"} username: {User}, password: {Password} {"}"}", """
              - artifactType: MAVEN
                sourceRegistry: libs-virtual
                destinationRegistry: libs
              - artifactType: NPM
                sourceRegistry: npm-remote
                destinationRegistry: npm
              - artifactType: MAVEN
                sourceRegistry: npm-local
                destinationRegistry: libs
              - artifactType: GENERIC
                sourceRegistry: nope-local
                destinationRegistry: files
              - artifactType: GENERIC
                sourceRegistry: npm-remote-cache
                destinationRegistry: files
            """);
        var report = Path.Combine(_work, "refused.json");
        var run = await MigrateAsync(_work, config, new Dictionary<string, string?>(), "--report", report);
        Assert.NotEqual(0, run.ExitCode);
        var errors = ReportItems(report).Where(i => !i.TryGetProperty("key", out _)).Select(i => i.GetProperty("error").GetString()!).ToList();
        Assert.Equal(4, errors.Count);
        Assert.Contains(errors, e => e.Contains("libs-virtual is a virtual repository: migrate its local members (libs-release-local, libs-snapshot-local)"));
        Assert.Contains(errors, e => e.Contains("npm-remote is a remote repository (a proxy of https://upstream.example/npm)") && e.Contains("npm-remote-cache"));
        Assert.Contains(errors, e => e.Contains("npm-local holds npm packages, not what a MAVEN mapping reads (maven, gradle, ivy, sbt)"));
        Assert.Contains(errors, e => e.Contains("nope-local: no such repository"));
        // Nothing was listed from the refused repositories; the cache was migrated.
        Assert.DoesNotContain(_jfrog.AqlQueries, q => q.Contains("\"libs-virtual\"") || q.Contains("\"npm-remote\"") || q.Contains("\"npm-local\"") || q.Contains("\"nope-local\""));
        Assert.Equal(cached, await Sha256OfAsync("pkg/files/generic/left-pad/1.0/left-pad-1.0.tgz"));
    }
}
