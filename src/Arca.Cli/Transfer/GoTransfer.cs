using System.CommandLine;
using System.IO.Compression;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Arca.Client;
using Arca.Core.Model;
using Arca.Server.Formats.Go;

namespace Arca.Cli.Transfer;

/// <summary>Go modules: push a module directory (zipped by the module zip rules) as a version; pull a module zip.</summary>
public sealed class GoTransfer : IArtifactTransfer
{
    private readonly Option<string> _version = new("--version") { Description = "Module version, canonical semver (vX.Y.Z[-pre])", Required = true };
    private readonly Option<bool> _overwrite = new("--overwrite") { Description = "Replace the version if it exists (needs the delete scope)" };

    public string Type => "go";
    public string Description => "Go modules: push MODULE-DIR --version vX.Y.Z; pull MODULE@VERSION DEST";
    public IReadOnlyList<Option> PushOptions => [_version, _overwrite];

    public async Task<int> PushAsync(TransferContext ctx, string path, ParseResult parse, CancellationToken ct)
    {
        var version = parse.GetValue(_version)!;
        if (!GoModulePath.TryParseVersion(version, out _))
            throw new CliUsageException($"--version '{version}' is not a canonical module version (vMAJOR.MINOR.PATCH[-PRERELEASE])");
        if (!Directory.Exists(path)) throw new CliUsageException($"'{path}' is not a directory (push the module's root directory, where go.mod is)");
        var goModPath = Path.Combine(path, "go.mod");
        if (!File.Exists(goModPath)) throw new CliUsageException($"'{path}' has no go.mod");
        var goMod = await File.ReadAllBytesAsync(goModPath, ct);
        var module = GoModuleZip.ModuleDirective(goMod) ?? throw new CliUsageException($"{goModPath} has no module directive");

        var zipPath = Path.Combine(Path.GetTempPath(), $"arca-go-{Guid.NewGuid():N}.zip");
        try
        {
            var files = GoModuleZipBuilder.Create(path, module, version, goMod, zipPath);
            ctx.Output.Debug($"module zip has {files} files");
            var size = new FileInfo(zipPath).Length;
            var sha256 = await Sha256OfFileAsync(zipPath, ct);
            var url = ctx.FormatPath("go") + $"{EscapePath(GoModulePath.Encode(module))}/@v/{Uri.EscapeDataString(GoModulePath.Encode(version))}"
                      + (parse.GetValue(_overwrite) ? "?overwrite=true" : "");
            var info = JsonSerializer.Serialize(new Dictionary<string, string> { ["Version"] = version, ["Time"] = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'") });
            await ctx.Output.ProgressAsync(async progress =>
            {
                var report = progress.Start($"{module}@{version}", size);
                using var form = new MultipartFormDataContent();
                var zipContent = new ProgressStreamContent(new FileStream(zipPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan), report);
                zipContent.Headers.ContentType = new MediaTypeHeaderValue("application/zip");
                zipContent.Headers.ContentLength = size;
                form.Add(zipContent, "zip", $"{version}.zip");
                form.Add(new ByteArrayContent(goMod) { Headers = { ContentType = new MediaTypeHeaderValue("text/plain") } }, "mod", $"{version}.mod");
                form.Add(new StringContent(info, Encoding.UTF8, "application/json"), "info", $"{version}.info");
                using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = form };
                request.Headers.Add("X-Checksum-Sha256", sha256);
                using var response = await ctx.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct);
                await ArcaApiClient.EnsureSuccessAsync(response, ct);
                return 0;
            });
            ctx.Output.Info($"pushed {module}@{version} ({size} bytes, sha256 {sha256})");
            return 0;
        }
        finally
        {
            File.Delete(zipPath);
        }
    }

    public async Task<int> PullAsync(TransferContext ctx, string reference, string destination, ParseResult parse, CancellationToken ct)
    {
        var at = reference.LastIndexOf('@');
        if (at <= 0 || at == reference.Length - 1) throw new CliUsageException($"expected <module>@<version>, got '{reference}'");
        var (module, version) = (reference[..at], reference[(at + 1)..]);
        var url = ctx.FormatPath("go") + $"{EscapePath(GoModulePath.Encode(module))}/@v/{Uri.EscapeDataString(GoModulePath.Encode(version))}.zip";
        destination = await VerifiedDownload.ToFileAsync(ctx, url, destination, $"{module[(module.LastIndexOf('/') + 1)..]}@{version}.zip", ct);
        ctx.Output.Info($"pulled {reference} -> {destination}");
        return 0;
    }

    internal static async Task<string> Sha256OfFileAsync(string path, CancellationToken ct)
    {
        await using var s = File.OpenRead(path);
        return Convert.ToHexStringLower(await System.Security.Cryptography.SHA256.HashDataAsync(s, ct));
    }

    private static string EscapePath(string path) => string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
}

/// <summary>
/// Builds a module zip from a directory by the rules of golang.org/x/mod/zip (go.dev/ref/mod#zip-files): files go under
/// "&lt;module&gt;@&lt;version&gt;/"; version-control directories (.git, .hg, .svn, .bzr) and sub-directories holding their own
/// go.mod (other modules) are left out, as are non-regular files (symlinks), vendored packages and the root
/// .hg_archival.txt. File paths must be valid and unique ignoring case.
/// </summary>
public static partial class GoModuleZipBuilder
{
    /// <summary>Writes the zip to <paramref name="zipPath"/> and returns the number of files in it.</summary>
    public static int Create(string moduleDir, string module, string version, byte[] goMod, string zipPath)
    {
        var root = Path.GetFullPath(moduleDir);
        var modernVendor = GoDirectiveAtLeast(goMod, 1, 24);
        var files = new List<(string Full, string Rel)>();
        Collect(root, root, files);
        var kept = files.Where(f => !IsOmitted(f.Rel, modernVendor)).OrderBy(f => f.Rel, StringComparer.Ordinal).ToList();

        var seen = new HashSet<string>(StringComparer.Ordinal);
        long total = 0;
        foreach (var (full, rel) in kept)
        {
            try { GoModuleZip.CheckFilePath(rel); }
            catch (ArcaException e) { throw new CliUsageException(e.Message.Replace("invalid module zip: ", "")); }
            if (!seen.Add(rel.ToLowerInvariant())) throw new CliUsageException($"file '{rel}' collides with another file that differs only in case");
            var length = new FileInfo(full).Length;
            if (rel == "go.mod" && length > GoModuleZip.MaxGoMod) throw new CliUsageException($"go.mod is larger than {GoModuleZip.MaxGoMod >> 20} MiB");
            if (rel == "LICENSE" && length > GoModuleZip.MaxLicense) throw new CliUsageException($"LICENSE is larger than {GoModuleZip.MaxLicense >> 20} MiB");
            total += length;
            if (total > GoModuleZip.MaxZipFile) throw new CliUsageException($"the module's files total more than {GoModuleZip.MaxZipFile >> 20} MiB");
        }

        var prefix = $"{module}@{version}/";
        using (var output = new FileStream(zipPath, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create))
        {
            foreach (var (full, rel) in kept)
            {
                var entry = zip.CreateEntry(prefix + rel, CompressionLevel.Optimal);
                using var target = entry.Open();
                using var source = File.OpenRead(full);
                source.CopyTo(target);
            }
        }
        return kept.Count;
    }

    private static void Collect(string root, string dir, List<(string, string)> files)
    {
        foreach (var entry in new DirectoryInfo(dir).EnumerateFileSystemInfos())
        {
            if (entry.LinkTarget is not null) continue; // symlinks are not regular files
            var rel = Path.GetRelativePath(root, entry.FullName).Replace(Path.DirectorySeparatorChar, '/');
            if (entry is DirectoryInfo sub)
            {
                if (sub.Name is ".git" or ".hg" or ".svn" or ".bzr") continue;
                if (File.Exists(Path.Combine(sub.FullName, "go.mod"))) continue; // another module
                Collect(root, sub.FullName, files);
            }
            else if (entry is FileInfo) files.Add((entry.FullName, rel));
        }
    }

    /// <summary>Vendored packages are never part of a module zip. Before go 1.24 x/mod decided that with a known
    /// off-by-one quirk (kept for checksum compatibility), which also keeps vendor/modules.txt.</summary>
    public static bool IsOmitted(string rel, bool modernVendor)
    {
        if (rel == ".hg_archival.txt") return true;
        if (modernVendor) return rel.StartsWith("vendor/", StringComparison.Ordinal);
        int i;
        if (rel.StartsWith("vendor/", StringComparison.Ordinal)) i = "vendor/".Length;
        else if (rel.Contains("/vendor/", StringComparison.Ordinal)) i = "/vendor/".Length;
        else return false;
        return rel[i..].Contains('/');
    }

    private static bool GoDirectiveAtLeast(byte[] goMod, int major, int minor)
    {
        var m = GoDirective().Match(Encoding.UTF8.GetString(goMod));
        if (!m.Success) return false;
        var maj = int.Parse(m.Groups[1].Value);
        var min = int.Parse(m.Groups[2].Value);
        return maj > major || (maj == major && min >= minor);
    }

    [GeneratedRegex(@"(?m)^\s*go\s+(\d+)\.(\d+)")]
    private static partial Regex GoDirective();
}
