using System.IO.Compression;
using System.Text.RegularExpressions;
using System.Xml;
using System.Xml.Linq;
using Arca.Core.Model;
using NuGet.Versioning;

namespace Arca.Server.Formats.NuGet;

public sealed record NuGetDependency(string Id, string Range);

/// <summary>Dependencies for one target framework; <see cref="TargetFramework"/> is null for framework-agnostic ones.</summary>
public sealed record NuGetDependencyGroup(string? TargetFramework, IReadOnlyList<NuGetDependency> Dependencies);

/// <summary>The .nuspec of a package: identity, descriptive fields and dependency groups.</summary>
public sealed partial record NuSpec(
    string Id, NuGetVersion Version, string? Title, string? Description, string? Authors, string? Tags,
    string? ProjectUrl, string? LicenseExpression, IReadOnlyList<NuGetDependencyGroup> DependencyGroups)
{
    /// <summary>A nuspec is a small document; a larger one is refused rather than parsed.</summary>
    public const int MaxBytes = 1024 * 1024;

    /// <summary>Lower-case normalized version, as the flat container and the registry's version names use it.</summary>
    public string LowerVersion => Version.ToNormalizedString().ToLowerInvariant();
    public string LowerId => Id.ToLowerInvariant();

    [GeneratedRegex(@"^\w+(?:[_.-]\w+)*$")]
    private static partial Regex IdPattern();

    public static bool IsValidId(string id) => id.Length <= 100 && IdPattern().IsMatch(id);

    public static NuSpec Parse(Stream stream)
    {
        XDocument doc;
        try
        {
            using var reader = XmlReader.Create(stream, new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxBytes, IgnoreComments = true,
            });
            doc = XDocument.Load(reader);
        }
        catch (XmlException e)
        {
            throw Invalid($"the .nuspec is not valid XML: {e.Message}");
        }
        var metadata = doc.Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "metadata")
                       ?? throw Invalid("the .nuspec has no <metadata>");
        string? Text(string name) => metadata.Elements().FirstOrDefault(e => e.Name.LocalName == name)?.Value.Trim() is { Length: > 0 } v ? v : null;

        var id = Text("id") ?? throw Invalid("the .nuspec has no <id>");
        if (!IsValidId(id)) throw Invalid($"'{id}' is not a valid package id");
        var versionText = Text("version") ?? throw Invalid("the .nuspec has no <version>");
        if (!NuGetVersion.TryParse(versionText, out var version)) throw Invalid($"'{versionText}' is not a valid NuGet version");
        var license = metadata.Elements().FirstOrDefault(e => e.Name.LocalName == "license" && (string?)e.Attribute("type") == "expression")?.Value.Trim();

        return new NuSpec(id, version, Text("title"), Text("description"), Text("authors"), Text("tags"), Text("projectUrl"), license,
            ParseDependencies(metadata.Elements().FirstOrDefault(e => e.Name.LocalName == "dependencies")));
    }

    private static List<NuGetDependencyGroup> ParseDependencies(XElement? dependencies)
    {
        var groups = new List<NuGetDependencyGroup>();
        if (dependencies is null) return groups;
        // Old nuspecs list <dependency> directly; newer ones group them per target framework.
        var flat = dependencies.Elements().Where(e => e.Name.LocalName == "dependency").Select(ParseDependency).ToList();
        if (flat.Count > 0) groups.Add(new NuGetDependencyGroup(null, flat));
        foreach (var g in dependencies.Elements().Where(e => e.Name.LocalName == "group"))
            groups.Add(new NuGetDependencyGroup((string?)g.Attribute("targetFramework") is { Length: > 0 } tf ? tf : null,
                g.Elements().Where(e => e.Name.LocalName == "dependency").Select(ParseDependency).ToList()));
        return groups;
    }

    private static NuGetDependency ParseDependency(XElement e)
    {
        var id = (string?)e.Attribute("id");
        if (string.IsNullOrWhiteSpace(id) || !IsValidId(id.Trim())) throw Invalid($"dependency id '{id}' is not valid");
        var raw = ((string?)e.Attribute("version"))?.Trim();
        string range;
        if (string.IsNullOrEmpty(raw)) range = "(, )";
        else if (VersionRange.TryParse(raw, out var r)) range = r.ToNormalizedString();
        else throw Invalid($"dependency {id} has an invalid version range '{raw}'");
        return new NuGetDependency(id.Trim(), range);
    }

    /// <summary>Reads the .nuspec at the root of a .nupkg (a zip). Returns the parsed spec and its raw bytes.
    /// Anything that is not a readable package is a 400.</summary>
    public static (NuSpec Spec, byte[] Bytes) ReadFromPackage(Stream seekableNupkg)
    {
        try
        {
            using var zip = new ZipArchive(seekableNupkg, ZipArchiveMode.Read, leaveOpen: true);
            var entries = zip.Entries.Where(e => !e.FullName.Contains('/') && e.FullName.EndsWith(".nuspec", StringComparison.OrdinalIgnoreCase)).ToList();
            if (entries.Count != 1) throw Invalid($"a package must contain exactly one .nuspec at its root (found {entries.Count})");
            var entry = entries[0];
            if (entry.Length > MaxBytes) throw Invalid($"the .nuspec is larger than {MaxBytes} bytes");
            // Bounded read: the declared length of a crafted entry cannot be trusted.
            using var ms = new MemoryStream();
            using (var s = entry.Open())
            {
                var buffer = new byte[16384];
                int read;
                while ((read = s.Read(buffer)) > 0)
                {
                    if (ms.Length + read > MaxBytes) throw Invalid($"the .nuspec is larger than {MaxBytes} bytes");
                    ms.Write(buffer, 0, read);
                }
            }
            var bytes = ms.ToArray();
            ms.Position = 0;
            return (Parse(ms), bytes);
        }
        catch (InvalidDataException e)
        {
            throw Invalid($"the package is not a valid zip archive: {e.Message}");
        }
    }

    private static ArcaException Invalid(string message) => ArcaException.BadRequest(message, "INVALID_PACKAGE");
}
