using System.CommandLine;
using System.Net.Http.Headers;
using Arca.Client;

namespace Arca.Cli.Transfer;

/// <summary>Helm charts over the classic repository's ChartMuseum API: push a packaged chart (.tgz); pull NAME/VERSION.</summary>
public sealed class HelmTransfer : IArtifactTransfer
{
    private readonly Option<bool> _overwrite = new("--overwrite") { Description = "Replace the chart version if it exists (needs the delete scope)" };

    public string Type => "helm";
    public string Description => "Helm charts: push CHART.tgz; pull NAME/VERSION DEST";
    public IReadOnlyList<Option> PushOptions => [_overwrite];

    public async Task<int> PushAsync(TransferContext ctx, string path, ParseResult parse, CancellationToken ct)
    {
        if (!File.Exists(path)) throw new CliUsageException($"'{path}' is not a file (push a chart packaged with `helm package`)");
        var size = new FileInfo(path).Length;
        var url = ctx.FormatPath("helm") + "api/charts" + (parse.GetValue(_overwrite) ? "?force=true" : "");
        await ctx.Output.ProgressAsync(async progress =>
        {
            var report = progress.Start(Path.GetFileName(path), size);
            using var request = new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new ProgressStreamContent(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), report),
            };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/gzip");
            request.Content.Headers.ContentLength = size;
            using var response = await ctx.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
            await ArcaApiClient.EnsureSuccessAsync(response, ct);
            return 0;
        });
        ctx.Output.Info($"pushed {Path.GetFileName(path)} ({size} bytes, sha256 {await GoTransfer.Sha256OfFileAsync(path, ct)})");
        return 0;
    }

    public async Task<int> PullAsync(TransferContext ctx, string reference, string destination, ParseResult parse, CancellationToken ct)
    {
        var parts = reference.Split('/');
        if (parts.Length != 2 || parts.Any(p => p.Length == 0)) throw new CliUsageException($"expected <chart name>/<version>, got '{reference}'");
        var fileName = $"{parts[0]}-{parts[1]}.tgz";
        var url = ctx.FormatPath("helm") + "charts/" + Uri.EscapeDataString(fileName);
        destination = await VerifiedDownload.ToFileAsync(ctx, url, destination, fileName, ct);
        ctx.Output.Info($"pulled {reference} -> {destination}");
        return 0;
    }
}
