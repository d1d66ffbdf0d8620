using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Xml.Linq;
using Arca.Client;
using Arca.Server.Formats.Maven;

namespace Arca.Cli.Transfer;

/// <summary>Maven: push a file (+ its POM) into the repository layout the way `mvn deploy` does; pull by coordinates.</summary>
public sealed class MavenTransfer : IArtifactTransfer
{
    private readonly Option<string?> _pom = new("--pom") { Description = "POM to deploy with the file (with --classifier it only supplies the coordinates)" };
    private readonly Option<string?> _groupId = new("--group-id") { Description = "groupId (when there is no --pom)" };
    private readonly Option<string?> _artifactId = new("--artifact-id") { Description = "artifactId (when there is no --pom)" };
    private readonly Option<string?> _version = new("--version") { Description = "Version (when there is no --pom); -SNAPSHOT versions get a timestamped file name" };
    private readonly Option<string?> _classifier = new("--classifier") { Description = "Classifier, e.g. sources" };
    private readonly Option<bool> _noPom = new("--no-pom") { Description = "Do not generate a minimal POM when none is given" };

    public string Type => "maven";
    public string Description => "Maven: push FILE [--pom P | --group-id G --artifact-id A --version V] [--classifier C]; pull G:A:V[:C][@EXT] DEST";
    public IReadOnlyList<Option> PushOptions => [_pom, _groupId, _artifactId, _version, _classifier, _noPom];

    public async Task<int> PushAsync(TransferContext ctx, string path, ParseResult parse, CancellationToken ct)
    {
        if (!File.Exists(path)) throw new CliUsageException($"'{path}' does not exist");
        var pomPath = parse.GetValue(_pom) ?? (path.EndsWith(".pom", StringComparison.OrdinalIgnoreCase) ? path : null);
        if (pomPath is not null && !File.Exists(pomPath)) throw new CliUsageException($"POM '{pomPath}' does not exist");
        var (groupId, artifactId, version) = Coordinates(pomPath, parse);
        var classifier = parse.GetValue(_classifier);
        var extension = Path.GetExtension(path).TrimStart('.').ToLowerInvariant();
        if (extension.Length == 0) throw new CliUsageException($"'{path}' has no extension; Maven files are named <artifactId>-<version>.<extension>");

        // A SNAPSHOT deploy writes timestamped names with the next build number, as Maven does.
        var fileVersion = version;
        if (MavenPath.IsSnapshotVersion(version))
        {
            var build = await LastBuildNumberAsync(ctx, groupId, artifactId, version, ct) + 1;
            fileVersion = $"{version[..^"SNAPSHOT".Length]}{DateTime.UtcNow.ToString("yyyyMMdd.HHmmss", CultureInfo.InvariantCulture)}-{build}";
        }
        var dir = $"{groupId.Replace('.', '/')}/{artifactId}/{version}/";
        var uploads = new List<(string Local, string Remote)>();
        if (!string.Equals(Path.GetFullPath(path), pomPath is null ? null : Path.GetFullPath(pomPath), StringComparison.Ordinal))
            uploads.Add((path, $"{dir}{artifactId}-{fileVersion}{(classifier is null ? "" : "-" + classifier)}.{extension}"));
        string? generatedPom = null;
        if (pomPath is null && classifier is null && !parse.GetValue(_noPom))
        {
            generatedPom = Path.Combine(Path.GetTempPath(), $"arca-{Guid.NewGuid():N}.pom");
            await File.WriteAllTextAsync(generatedPom, MinimalPom(groupId, artifactId, version, extension), ct);
        }
        // A classified file (sources, javadoc...) joins an existing version: its POM only supplies the coordinates.
        if (classifier is null && (pomPath ?? generatedPom) is { } pomFile) uploads.Add((pomFile, $"{dir}{artifactId}-{fileVersion}.pom"));

        try
        {
            await ctx.Output.ProgressAsync(async progress =>
            {
                foreach (var (local, remote) in uploads) await UploadAsync(ctx, local, remote, progress, ct);
                return 0;
            });
        }
        finally
        {
            if (generatedPom is not null) File.Delete(generatedPom);
        }
        foreach (var (_, remote) in uploads) ctx.Output.Info($"pushed {remote}");
        ctx.Output.Info($"deployed {groupId}:{artifactId}:{version}{(classifier is null ? "" : ":" + classifier)}");
        return 0;
    }

    private (string GroupId, string ArtifactId, string Version) Coordinates(string? pomPath, ParseResult parse)
    {
        string? g = parse.GetValue(_groupId), a = parse.GetValue(_artifactId), v = parse.GetValue(_version);
        if (pomPath is not null)
        {
            MavenPom pom;
            using (var s = File.OpenRead(pomPath)) pom = MavenPom.Parse(s);
            g ??= pom.GroupId;
            a ??= pom.ArtifactId;
            v ??= pom.Version;
        }
        if (string.IsNullOrEmpty(g) || string.IsNullOrEmpty(a) || string.IsNullOrEmpty(v))
            throw new CliUsageException("give --pom, or --group-id, --artifact-id and --version");
        if (g.Contains("${") || v.Contains("${"))
            throw new CliUsageException("the POM's coordinates use ${...} properties; give --group-id/--version explicitly");
        return (g, a, v);
    }

    /// <summary>What `mvn deploy-file -DgeneratePom=true` writes when there is no POM.</summary>
    private static string MinimalPom(string g, string a, string v, string packaging)
    {
        XNamespace ns = "http://maven.apache.org/POM/4.0.0";
        var project = new XElement(ns + "project",
            new XElement(ns + "modelVersion", "4.0.0"), new XElement(ns + "groupId", g), new XElement(ns + "artifactId", a),
            new XElement(ns + "version", v), new XElement(ns + "packaging", packaging));
        return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + project + "\n";
    }

    private static async Task<int> LastBuildNumberAsync(TransferContext ctx, string g, string a, string v, CancellationToken ct)
    {
        using var response = await ctx.Http.GetAsync(ctx.FormatPath("maven") + $"{g.Replace('.', '/')}/{a}/{v}/maven-metadata.xml", ct);
        if (response.StatusCode == HttpStatusCode.NotFound) return 0;
        await ArcaApiClient.EnsureSuccessAsync(response, ct);
        var doc = XDocument.Parse(await response.Content.ReadAsStringAsync(ct));
        return int.TryParse(doc.Descendants("buildNumber").FirstOrDefault()?.Value, out var n) ? n : 0;
    }

    private static async Task UploadAsync(TransferContext ctx, string local, string remote, ProgressReporter progress, CancellationToken ct)
    {
        var size = new FileInfo(local).Length;
        // The server verifies what it stored against these (hashed by streaming, never buffered).
        string sha256, sha1;
        await using (var s = File.OpenRead(local)) sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(s, ct));
        await using (var s = File.OpenRead(local)) sha1 = Convert.ToHexStringLower(await SHA1.HashDataAsync(s, ct));
        var report = progress.Start(Path.GetFileName(remote), size);
        using var request = new HttpRequestMessage(HttpMethod.Put, ctx.FormatPath("maven") + remote)
        {
            Content = new ProgressStreamContent(new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), report),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentLength = size;
        request.Headers.Add("X-Checksum-Sha256", sha256);
        request.Headers.Add("X-Checksum-Sha1", sha1);
        using var response = await ctx.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await ArcaApiClient.EnsureSuccessAsync(response, ct);
    }

    public async Task<int> PullAsync(TransferContext ctx, string reference, string destination, ParseResult parse, CancellationToken ct)
    {
        var (coords, extension) = reference.Split('@', 2) is [var c, var e] ? (c, e) : (reference, "jar");
        var parts = coords.Split(':');
        if (parts.Length is < 3 or > 4 || parts.Any(p => p.Length == 0) || extension.Length == 0)
            throw new CliUsageException($"expected <groupId>:<artifactId>:<version>[:<classifier>][@<extension>], got '{reference}'");
        var (g, a, v) = (parts[0], parts[1], parts[2]);
        var classifier = parts.Length == 4 ? "-" + parts[3] : "";
        // For a SNAPSHOT the server resolves the plain -SNAPSHOT name to the newest timestamped build.
        var fileName = $"{a}-{v}{classifier}.{extension}";
        var url = ctx.FormatPath("maven") + $"{g.Replace('.', '/')}/{Uri.EscapeDataString(a)}/{Uri.EscapeDataString(v)}/{Uri.EscapeDataString(fileName)}";
        var written = await VerifiedDownload.ToFileAsync(ctx, url, destination, fileName, ct);
        ctx.Output.Info($"pulled {reference} -> {written}");
        return 0;
    }
}
