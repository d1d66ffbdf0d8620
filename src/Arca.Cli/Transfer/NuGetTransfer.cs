using System.CommandLine;
using System.Net.Http.Headers;
using Arca.Client;
using Arca.Server.Formats.NuGet;
using NuGet.Versioning;

namespace Arca.Cli.Transfer;

/// <summary>NuGet: push a .nupkg through the PackagePublish endpoint (as `dotnet nuget push`); pull from the flat container.</summary>
public sealed class NuGetTransfer : IArtifactTransfer
{
    public string Type => "nuget";
    public string Description => "NuGet: push FILE.nupkg; pull ID/VERSION DEST";
    public IReadOnlyList<Option> PushOptions => [];

    public async Task<int> PushAsync(TransferContext ctx, string path, ParseResult parse, CancellationToken ct)
    {
        if (!File.Exists(path)) throw new CliUsageException($"'{path}' does not exist");
        // Read the identity locally first, so a broken package is reported without uploading it.
        NuSpec spec;
        await using (var s = File.OpenRead(path))
        {
            try { spec = NuSpec.ReadFromPackage(s).Spec; }
            catch (Core.Model.ArcaException e) { throw new CliUsageException($"'{path}' is not a valid .nupkg: {e.Message}"); }
        }
        var size = new FileInfo(path).Length;
        await ctx.Output.ProgressAsync(async progress =>
        {
            var report = progress.Start(Path.GetFileName(path), size);
            var part = new ProgressStreamContent(new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), report);
            part.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var form = new MultipartFormDataContent { { part, "package", "package.nupkg" } };
            using var response = await ctx.Http.PutAsync(ctx.FormatPath("nuget") + "api/v2/package", form, ct);
            await ArcaApiClient.EnsureSuccessAsync(response, ct);
            return 0;
        });
        ctx.Output.Info($"pushed {spec.Id} {spec.Version.ToNormalizedString()}");
        return 0;
    }

    public async Task<int> PullAsync(TransferContext ctx, string reference, string destination, ParseResult parse, CancellationToken ct)
    {
        var parts = reference.Split('/');
        if (parts.Length != 2 || !NuSpec.IsValidId(parts[0]) || !NuGetVersion.TryParse(parts[1], out var version))
            throw new CliUsageException($"expected <id>/<version>, got '{reference}'");
        var id = parts[0].ToLowerInvariant();
        var v = version.ToNormalizedString().ToLowerInvariant();
        var fileName = $"{id}.{v}.nupkg";
        var written = await VerifiedDownload.ToFileAsync(ctx, ctx.FormatPath("nuget") + $"v3-flatcontainer/{id}/{v}/{fileName}", destination, fileName, ct);
        ctx.Output.Info($"pulled {reference} -> {written}");
        return 0;
    }
}
