using System.Runtime.CompilerServices;
using Arca.Core.Validation;
using Arca.Migration.Config;
using Arca.Migration.Destinations;
using Arca.Migration.Engine;

namespace Arca.Migration.Sources;

/// <summary>GO from an Artifactory Go local repository, stored in the GOPROXY layout
/// <c>&lt;module&gt;/@v/&lt;version&gt;.zip|.mod|.info</c>.</summary>
public sealed partial class ArtifactorySource
{
    private async IAsyncEnumerable<MigrationItem> GoItemsAsync(MappingConfig mapping, PackageFilter filter, string repo, [EnumeratorCancellation] CancellationToken ct)
    {
        await foreach (var file in ListFilesAsync(repo, ct))
        {
            if (GoVersionOf(file.Path) is not { } stored) continue;
            var (module, version) = (Unescaped(stored.Module), Unescaped(stored.Version));
            if (!filter.Selects(module ?? stored.Module)) continue;
            // The zip, .mod and .info are read where the listing found them: the stored files are what AQL checksummed.
            var folder = DownloadUrl(repo, file.Path[..(file.Path.LastIndexOf('/') + 1)]).AbsoluteUri;
            var escapedVersion = Uri.EscapeDataString(stored.Version);
            yield return new GoModuleItem
            {
                Key = $"{mapping.Index}|GO|{module ?? stored.Module}|{version ?? stored.Version}",
                Package = module ?? stored.Module, Version = version ?? stored.Version, Module = module ?? stored.Module,
                Display = $"{module ?? stored.Module}@{version ?? stored.Version}", Size = file.Size, Sha256 = file.Sha256,
                ListingError = module is null || version is null ? $"{file.Path}: not a valid case-encoded Go module path or version"
                    : file.Sha256 is null ? $"{file.Path}: the listing has no sha256 for this module zip" : null,
                OpenZip = token => NativeSources.OpenAsync(_http, new Uri(folder + escapedVersion + ".zip"), token),
                ReadMod = token => GoDocuments.ReadAsync(_http, folder + escapedVersion + ".mod", token),
                ReadInfo = token => GoDocuments.ReadAsync(_http, folder + escapedVersion + ".info", token),
            };
        }
    }

    /// <summary>A stored module path or version as written in go.mod: '!' case-encoded ones are decoded (a real module
    /// path or version has no '!'), others are as written; null for an invalid encoding.</summary>
    private static string? Unescaped(string stored) => stored.Contains('!') ? GoCaseEncoding.Decode(stored) : stored;

    /// <summary>The module and version (as stored: plain, or case-encoded with '!') of a stored
    /// <c>&lt;module&gt;/@v/&lt;version&gt;.zip</c>; null for any other file.</summary>
    internal static (string Module, string Version)? GoVersionOf(string path)
    {
        const string marker = "/@v/";
        var at = path.LastIndexOf(marker, StringComparison.Ordinal);
        if (at <= 0 || !path.EndsWith(".zip", StringComparison.Ordinal)) return null;
        var version = path[(at + marker.Length)..^".zip".Length];
        return version.Length == 0 || version.Contains('/') ? null : (path[..at], version);
    }
}
