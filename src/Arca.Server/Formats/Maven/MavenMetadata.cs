using System.Globalization;
using System.Text;
using System.Xml;
using Arca.Core.Model;

namespace Arca.Server.Formats.Maven;

/// <summary>Generates maven-metadata.xml from what the registry stores, so it is always consistent with the files
/// (client-uploaded metadata is accepted but never served).</summary>
public static class MavenMetadata
{
    /// <summary>Artifact level: every version in deploy order; latest = last deployed, release = last deployed non-SNAPSHOT.</summary>
    public static byte[] ForArtifact(string groupId, string artifactId, IReadOnlyList<PackageVersion> versionsInDeployOrder)
    {
        var release = versionsInDeployOrder.LastOrDefault(v => !MavenPath.IsSnapshotVersion(v.Version));
        return Write(w =>
        {
            w.WriteStartElement("metadata");
            w.WriteElementString("groupId", groupId);
            w.WriteElementString("artifactId", artifactId);
            w.WriteStartElement("versioning");
            w.WriteElementString("latest", versionsInDeployOrder[^1].Version);
            if (release is not null) w.WriteElementString("release", release.Version);
            w.WriteStartElement("versions");
            foreach (var v in versionsInDeployOrder) w.WriteElementString("version", v.Version);
            w.WriteEndElement();
            w.WriteElementString("lastUpdated", Stamp(versionsInDeployOrder.Max(v => v.UpdatedAt)));
            w.WriteEndElement();
            w.WriteEndElement();
        });
    }

    /// <summary>SNAPSHOT version level: the newest timestamp/buildNumber, and the newest file per classifier+extension.</summary>
    public static byte[] ForSnapshot(string groupId, string artifactId, string version, IReadOnlyList<PackageFile> files)
    {
        var parsed = files
            .Select(f => (File: f, Path: TryParse(artifactId, version, f.Path)))
            .Where(x => x.Path is not null)
            .Select(x => (x.File, Path: x.Path!.Value))
            .ToList();
        var timestamped = parsed.Where(x => x.Path.Timestamp is not null).ToList();
        var newest = timestamped.OrderBy(x => x.Path.Build).ThenBy(x => x.Path.Timestamp, StringComparer.Ordinal).LastOrDefault();
        var perKind = parsed
            .GroupBy(x => (x.Path.Classifier, x.Path.Extension))
            .Select(g => g.OrderBy(x => x.Path.Timestamp is null ? 0 : 1).ThenBy(x => x.Path.Build ?? 0).ThenBy(x => x.Path.Timestamp, StringComparer.Ordinal).Last())
            .OrderBy(x => x.Path.Classifier ?? "", StringComparer.Ordinal).ThenBy(x => x.Path.Extension, StringComparer.Ordinal)
            .ToList();
        var lastUpdated = files.Count == 0 ? DateTimeOffset.UtcNow : files.Max(f => f.CreatedAt);
        var baseVersion = version[..^"SNAPSHOT".Length];
        return Write(w =>
        {
            w.WriteStartElement("metadata");
            w.WriteAttributeString("modelVersion", "1.1.0");
            w.WriteElementString("groupId", groupId);
            w.WriteElementString("artifactId", artifactId);
            w.WriteElementString("version", version);
            w.WriteStartElement("versioning");
            w.WriteStartElement("snapshot");
            if (newest.File is not null)
            {
                w.WriteElementString("timestamp", newest.Path.Timestamp);
                w.WriteElementString("buildNumber", newest.Path.Build!.Value.ToString(CultureInfo.InvariantCulture));
            }
            else w.WriteElementString("localCopy", "true");
            w.WriteEndElement();
            w.WriteElementString("lastUpdated", Stamp(lastUpdated));
            w.WriteStartElement("snapshotVersions");
            foreach (var (file, p) in perKind)
            {
                w.WriteStartElement("snapshotVersion");
                if (p.Classifier is not null) w.WriteElementString("classifier", p.Classifier);
                w.WriteElementString("extension", p.Extension);
                w.WriteElementString("value", p.Timestamp is null ? version : $"{baseVersion}{p.Timestamp}-{p.Build}");
                w.WriteElementString("updated", p.Timestamp?.Replace(".", "") ?? Stamp(file.CreatedAt));
                w.WriteEndElement();
            }
            w.WriteEndElement();
            w.WriteEndElement();
            w.WriteEndElement();
        });
    }

    private static (string? Classifier, string Extension, string? Timestamp, int? Build)? TryParse(string artifactId, string version, string fileName)
    {
        try { return MavenPath.ParseFileName(artifactId, version, fileName); }
        catch (ArcaException) { return null; }
    }

    private static string Stamp(DateTimeOffset t) => t.UtcDateTime.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);

    private static byte[] Write(Action<XmlWriter> body)
    {
        using var ms = new MemoryStream();
        using (var w = XmlWriter.Create(ms, new XmlWriterSettings { Encoding = new UTF8Encoding(false), Indent = true }))
        {
            w.WriteStartDocument();
            body(w);
            w.WriteEndDocument();
        }
        return ms.ToArray();
    }
}
