using System.Xml;
using System.Xml.Linq;
using Arca.Core.Model;

namespace Arca.Server.Formats.Maven;

/// <summary>The coordinates and descriptive fields of a POM, with groupId/version inherited from &lt;parent&gt;.</summary>
public sealed record MavenPom(string? GroupId, string ArtifactId, string? Version, string Packaging, string? Name, string? Description)
{
    /// <summary>POMs are small; anything bigger than this is refused rather than parsed.</summary>
    public const int MaxCharacters = 4 * 1024 * 1024;

    public static MavenPom Parse(Stream stream)
    {
        XDocument doc;
        try
        {
            // No DTDs and no external resolution: a POM must never make the server fetch anything.
            using var reader = XmlReader.Create(stream, new XmlReaderSettings
            {
                DtdProcessing = DtdProcessing.Prohibit, XmlResolver = null, MaxCharactersInDocument = MaxCharacters,
                IgnoreComments = true, Async = false,
            });
            doc = XDocument.Load(reader);
        }
        catch (XmlException e)
        {
            throw ArcaException.BadRequest($"invalid POM: {e.Message}", "INVALID_POM");
        }
        var project = doc.Root;
        if (project is null || project.Name.LocalName != "project")
            throw ArcaException.BadRequest("invalid POM: the root element is not <project>", "INVALID_POM");

        var parent = Child(project, "parent");
        var artifactId = Text(project, "artifactId") ?? throw ArcaException.BadRequest("invalid POM: <artifactId> is missing", "INVALID_POM");
        return new MavenPom(
            Text(project, "groupId") ?? (parent is null ? null : Text(parent, "groupId")),
            artifactId,
            Text(project, "version") ?? (parent is null ? null : Text(parent, "version")),
            Text(project, "packaging") ?? "jar",
            Text(project, "name"),
            Text(project, "description"));
    }

    /// <summary>Refuses a POM whose literal coordinates differ from the path it was uploaded to. Values that use
    /// ${...} properties cannot be checked without the parent chain and are left alone.</summary>
    public void RequireCoordinates(MavenPath path)
    {
        Check("groupId", GroupId, path.GroupId);
        Check("artifactId", ArtifactId, path.ArtifactId);
        Check("version", Version, path.Version!);
    }

    private static void Check(string field, string? inPom, string inPath)
    {
        if (inPom is null || inPom.Contains("${", StringComparison.Ordinal)) return;
        if (!string.Equals(inPom, inPath, StringComparison.Ordinal))
            throw ArcaException.BadRequest($"the POM's {field} '{inPom}' does not match the path's '{inPath}'", "COORDINATES_MISMATCH");
    }

    private static XElement? Child(XElement e, string name) => e.Elements().FirstOrDefault(c => c.Name.LocalName == name);

    private static string? Text(XElement e, string name) => Child(e, name)?.Value.Trim() is { Length: > 0 } v ? v : null;
}
