using System.CommandLine;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Arca.Client;

namespace Arca.Cli.Transfer;

/// <summary>Generic files: push a file or a whole directory (recursively, several files at once), pull one file.</summary>
public sealed class GenericTransfer : IArtifactTransfer
{
    private readonly Option<string> _package = new("--package") { Description = "Package name", Required = true };
    private readonly Option<string> _version = new("--version") { Description = "Version", Required = true };
    private readonly Option<string?> _path = new("--path") { Description = "File path inside the version (default: the file name; for a directory, paths relative to it)" };
    private readonly Option<bool> _overwrite = new("--overwrite") { Description = "Replace files that already exist" };
    private readonly Option<int> _parallel = new("--parallel") { Description = "Files uploaded at once for a directory", DefaultValueFactory = _ => 4 };

    public string Type => "generic";
    public string Description => "generic files: push FILE|DIR --package P --version V; pull PKG/VER/PATH DEST";
    public IReadOnlyList<Option> PushOptions => [_package, _version, _path, _overwrite, _parallel];

    public async Task<int> PushAsync(TransferContext ctx, string path, ParseResult parse, CancellationToken ct)
    {
        var package = parse.GetValue(_package)!;
        var version = parse.GetValue(_version)!;
        var overwrite = parse.GetValue(_overwrite);
        List<(string Local, string Remote)> files;
        if (Directory.Exists(path))
        {
            var root = Path.GetFullPath(path);
            var prefix = parse.GetValue(_path)?.Trim('/');
            files = Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(f => (f, Join(prefix, Path.GetRelativePath(root, f).Replace(Path.DirectorySeparatorChar, '/'))))
                .OrderBy(f => f.Item2, StringComparer.Ordinal).ToList();
            if (files.Count == 0) throw new CliUsageException($"directory '{path}' contains no files");
        }
        else if (File.Exists(path))
            files = [(Path.GetFullPath(path), parse.GetValue(_path)?.Trim('/') is { Length: > 0 } p ? p : Path.GetFileName(path))];
        else
            throw new CliUsageException($"'{path}' does not exist");

        var results = new List<(string Path, long Size, string Sha256)>();
        await ctx.Output.ProgressAsync(async progress =>
        {
            await Parallel.ForEachAsync(files, new ParallelOptions { MaxDegreeOfParallelism = Math.Max(1, parse.GetValue(_parallel)), CancellationToken = ct },
                async (f, token) =>
                {
                    var r = await UploadAsync(ctx, package, version, f.Local, f.Remote, overwrite, progress, token);
                    lock (results) results.Add(r);
                });
            return 0;
        });
        foreach (var r in results.OrderBy(r => r.Path, StringComparer.Ordinal))
            ctx.Output.Info($"pushed {package}/{version}/{r.Path} ({r.Size} bytes, sha256 {r.Sha256})");
        return 0;
    }

    private static string Join(string? prefix, string rel) => string.IsNullOrEmpty(prefix) ? rel : $"{prefix}/{rel}";

    private static async Task<(string, long, string)> UploadAsync(TransferContext ctx, string package, string version, string local, string remote,
        bool overwrite, ProgressReporter progress, CancellationToken ct)
    {
        var size = new FileInfo(local).Length;
        // Hash first so the server verifies what it stored against what we have on disk (streamed, never buffered).
        string sha256;
        await using (var hashStream = File.OpenRead(local))
            sha256 = Convert.ToHexStringLower(await SHA256.HashDataAsync(hashStream, ct));
        var url = ctx.FormatPath("generic") + $"{Uri.EscapeDataString(package)}/{Uri.EscapeDataString(version)}/{EscapePath(remote)}" + (overwrite ? "?overwrite=true" : "");
        var report = progress.Start(remote, size);
        using var request = new HttpRequestMessage(HttpMethod.Put, url)
        {
            Content = new ProgressStreamContent(new FileStream(local, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), report),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentLength = size;
        request.Headers.Add("X-Checksum-Sha256", sha256);
        using var response = await ctx.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
        await ArcaApiClient.EnsureSuccessAsync(response, ct);
        return (remote, size, sha256);
    }

    internal static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));

    public async Task<int> PullAsync(TransferContext ctx, string reference, string destination, ParseResult parse, CancellationToken ct)
    {
        var parts = reference.Split('/', 3);
        if (parts.Length < 3 || parts.Any(p => p.Length == 0))
            throw new CliUsageException($"expected <package>/<version>/<file path>, got '{reference}'");
        var url = ctx.FormatPath("generic") + $"{Uri.EscapeDataString(parts[0])}/{Uri.EscapeDataString(parts[1])}/{EscapePath(parts[2])}";
        destination = await VerifiedDownload.ToFileAsync(ctx, url, destination, Path.GetFileName(parts[2]), ct);
        ctx.Output.Info($"pulled {reference} -> {destination}");
        return 0;
    }
}
