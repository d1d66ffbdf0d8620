using System.CommandLine;
using System.Formats.Tar;
using System.IO.Compression;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Client;
using Arca.Client.Npm;

namespace Arca.Cli.Transfer;

/// <summary>npm packages through the npm registry protocol: push a packed tarball (what `npm pack` writes) the way
/// `npm publish` does, pull <c>name@version</c> (or <c>name@tag</c>, or just <c>name</c> for latest) to a file.</summary>
public sealed class NpmTransfer : IArtifactTransfer
{
    private readonly Option<string> _tag = new("--tag") { Description = "dist-tag to point at the pushed version", DefaultValueFactory = _ => "latest" };

    public string Type => "npm";
    public string Description => "npm packages: push PACKAGE.tgz [--tag T]; pull NAME@VERSION DEST (NAME may be @scope/name; VERSION may be a dist-tag)";
    public IReadOnlyList<Option> PushOptions => [_tag];

    public async Task<int> PushAsync(TransferContext ctx, string path, ParseResult parse, CancellationToken ct)
    {
        if (!File.Exists(path)) throw new CliUsageException($"'{path}' is not a file: push a package tarball made by `npm pack`");
        var manifest = await ReadPackageJsonAsync(path, ct);
        var name = manifest["name"]?.GetValue<string>() ?? throw new CliUsageException($"{path}: package.json has no name");
        var version = manifest["version"]?.GetValue<string>() ?? throw new CliUsageException($"{path}: package.json has no version");
        var tag = parse.GetValue(_tag)!;

        // Hash first (streamed) so the server can verify the attachment against dist.integrity and dist.shasum.
        using var sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        using var sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        long size = 0;
        await using (var file = File.OpenRead(path))
        {
            var buffer = new byte[128 * 1024];
            int read;
            while ((read = await file.ReadAsync(buffer, ct)) > 0) { sha512.AppendData(buffer, 0, read); sha1.AppendData(buffer, 0, read); size += read; }
        }
        var integrity = "sha512-" + Convert.ToBase64String(sha512.GetHashAndReset());
        var shasum = Convert.ToHexStringLower(sha1.GetHashAndReset());

        manifest["_id"] = $"{name}@{version}";
        manifest["dist"] = new JsonObject { ["integrity"] = integrity, ["shasum"] = shasum };
        var document = NpmPublish.Document(name, version, manifest, [tag]);

        var url = ctx.FormatPath("npm") + NpmPublish.EscapeName(name);
        await ctx.Output.ProgressAsync(async progress =>
        {
            var reporter = progress.Start(Path.GetFileName(path), size);
            long sent = 0;
            using var request = new HttpRequestMessage(HttpMethod.Put, url)
            {
                Content = new NpmPublishContent(document, NpmPublish.AttachmentName(name, version),
                    _ => Task.FromResult<Stream>(File.OpenRead(path)), size, chunk => reporter.Report(sent += chunk.Length)),
            };
            using var response = await ctx.Http.SendAsync(request, ct);
            await EnsureSuccessAsync(response, ct);
            return 0;
        });
        ctx.Output.Info($"pushed {name}@{version} ({size} bytes, {integrity}) with dist-tag {tag}");
        return 0;
    }

    public async Task<int> PullAsync(TransferContext ctx, string reference, string destination, ParseResult parse, CancellationToken ct)
    {
        var at = reference.LastIndexOf('@');
        var (name, wanted) = at > 0 ? (reference[..at], reference[(at + 1)..]) : (reference, "latest");
        if (name.Length == 0 || wanted.Length == 0) throw new CliUsageException($"expected <name>@<version>, got '{reference}'");
        using var response = await ctx.Http.GetAsync(ctx.FormatPath("npm") + NpmPublish.EscapeName(name), ct);
        await EnsureSuccessAsync(response, ct);
        var packument = JsonNode.Parse(await response.Content.ReadAsStringAsync(ct))!;
        var version = packument["versions"]?[wanted] is not null ? wanted : packument["dist-tags"]?[wanted]?.GetValue<string>()
            ?? throw new ArcaClientException($"{name}@{wanted} not found in registry '{ctx.Registry}'", HttpStatusCode.NotFound);
        var dist = packument["versions"]?[version]?["dist"] ?? throw new ArcaClientException($"{name}@{version} has no dist information");
        var tarball = dist["tarball"]!.GetValue<string>();
        var integrity = dist["integrity"]?.GetValue<string>()?.Split(' ').FirstOrDefault(i => i.StartsWith("sha512-", StringComparison.Ordinal));
        var (algorithm, expected) = integrity is not null
            ? (HashAlgorithmName.SHA512, Convert.ToHexStringLower(Convert.FromBase64String(integrity["sha512-".Length..])))
            : (HashAlgorithmName.SHA1, dist["shasum"]?.GetValue<string>());
        var fileName = $"{(name.Contains('/') ? name[(name.IndexOf('/') + 1)..] : name)}-{version}.tgz";
        var written = await VerifiedDownload.ToFileAsync(ctx, tarball, destination, fileName, algorithm, expected, ct);
        ctx.Output.Info($"pulled {name}@{version} -> {written}");
        return 0;
    }

    /// <summary>npm errors are {"error": "..."}; show that message.</summary>
    private static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken ct)
    {
        if (response.IsSuccessStatusCode) return;
        var text = await response.Content.ReadAsStringAsync(ct);
        string? message = null;
        try { message = JsonNode.Parse(text)?["error"] is JsonValue v && v.TryGetValue<string>(out var s) ? s : null; }
        catch (JsonException) { }
        message ??= text.Length > 0 && text.Length < 500 ? text.Trim() : response.ReasonPhrase;
        throw new ArcaClientException($"{(int)response.StatusCode} {response.StatusCode}: {message}", response.StatusCode);
    }

    internal static async Task<JsonObject> ReadPackageJsonAsync(string path, CancellationToken ct)
    {
        try
        {
            await using var file = File.OpenRead(path);
            await using var gzip = new GZipStream(file, CompressionMode.Decompress);
            await using var tar = new TarReader(gzip);
            TarEntry? entry;
            while ((entry = await tar.GetNextEntryAsync(copyData: false, ct)) is not null)
            {
                var entryName = entry.Name.TrimStart('.', '/');
                var slash = entryName.IndexOf('/');
                if (slash > 0 && entryName[(slash + 1)..] == "package.json" && entry.DataStream is { } data)
                    return await JsonNode.ParseAsync(data, cancellationToken: ct) as JsonObject ?? throw new CliUsageException($"{path}: package.json is not an object");
            }
        }
        catch (Exception e) when (e is InvalidDataException or FormatException or EndOfStreamException or JsonException)
        {
            throw new CliUsageException($"{path} is not an npm package tarball (gzip tar with package/package.json): {e.Message}");
        }
        throw new CliUsageException($"{path} contains no package/package.json");
    }
}
