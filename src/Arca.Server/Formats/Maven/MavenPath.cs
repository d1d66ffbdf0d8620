using System.Text.RegularExpressions;
using Arca.Core.Model;
using Arca.Core.Validation;

namespace Arca.Server.Formats.Maven;

public enum MavenPathKind { ArtifactFile, ArtifactMetadata, SnapshotMetadata }

/// <summary>
/// A request path of the Maven repository layout, e.g. <c>com/acme/util/1.0/util-1.0-sources.jar.sha1</c>:
/// group path, artifactId, version directory and file name, plus the checksum algorithm when the path names a sidecar.
/// </summary>
public sealed partial record MavenPath
{
    public const string MetadataFile = "maven-metadata.xml";
    public static readonly IReadOnlyList<string> ChecksumAlgorithms = ["md5", "sha1", "sha256", "sha512"];

    public required MavenPathKind Kind { get; init; }
    public required string GroupId { get; init; }
    public required string ArtifactId { get; init; }
    /// <summary>The version directory (for SNAPSHOTs the base version, e.g. 1.0-SNAPSHOT); null for artifact metadata.</summary>
    public string? Version { get; init; }
    /// <summary>The file name without a checksum suffix.</summary>
    public required string FileName { get; init; }
    /// <summary>md5, sha1, sha256 or sha512 when the path names a checksum sidecar.</summary>
    public string? ChecksumAlgorithm { get; init; }
    public string? Classifier { get; init; }
    public string? Extension { get; init; }
    /// <summary>For timestamped SNAPSHOT files: "20261122.052800" and the build number.</summary>
    public string? SnapshotTimestamp { get; init; }
    public int? SnapshotBuildNumber { get; init; }

    public string PackageName => $"{GroupId}:{ArtifactId}";
    public bool IsSnapshot => Version is not null && IsSnapshotVersion(Version);
    public bool IsMainPom => Kind == MavenPathKind.ArtifactFile && Classifier is null && Extension == "pom";

    public static bool IsSnapshotVersion(string version) => version.EndsWith("-SNAPSHOT", StringComparison.Ordinal);

    [GeneratedRegex(@"^(\d{8}\.\d{6})-(\d+)")]
    private static partial Regex TimestampPattern();

    /// <summary>Parses and validates a repository path; throws 400 for anything that is not a Maven layout path.</summary>
    public static MavenPath Parse(string? path)
    {
        PathValidator.Validate(path);
        var segments = path!.Split('/');
        foreach (var s in segments) Identifiers.ValidateSegment(s, "path segment");

        var last = segments[^1];
        string? algorithm = null;
        foreach (var alg in ChecksumAlgorithms)
            if (last.EndsWith("." + alg, StringComparison.Ordinal)) { algorithm = alg; last = last[..^(alg.Length + 1)]; break; }

        if (last == MetadataFile)
        {
            var dir = segments[..^1];
            if (dir.Length >= 3 && IsSnapshotVersion(dir[^1]))
                return new MavenPath
                {
                    Kind = MavenPathKind.SnapshotMetadata, GroupId = string.Join('.', dir[..^2]), ArtifactId = dir[^2],
                    Version = dir[^1], FileName = last, ChecksumAlgorithm = algorithm,
                };
            if (dir.Length >= 2)
                return new MavenPath
                {
                    Kind = MavenPathKind.ArtifactMetadata, GroupId = string.Join('.', dir[..^1]), ArtifactId = dir[^1],
                    FileName = last, ChecksumAlgorithm = algorithm,
                };
            throw ArcaException.BadRequest($"'{path}' is not a Maven repository path: maven-metadata.xml needs <group>/<artifactId>/", "INVALID_PATH");
        }

        if (segments.Length < 4)
            throw ArcaException.BadRequest($"'{path}' is not a Maven repository path: expected <group path>/<artifactId>/<version>/<file>", "INVALID_PATH");
        var groupId = string.Join('.', segments[..^3]);
        var artifactId = segments[^3];
        var version = segments[^2];
        var (classifier, extension, timestamp, build) = ParseFileName(artifactId, version, last);
        return new MavenPath
        {
            Kind = MavenPathKind.ArtifactFile, GroupId = groupId, ArtifactId = artifactId, Version = version, FileName = last,
            ChecksumAlgorithm = algorithm, Classifier = classifier, Extension = extension,
            SnapshotTimestamp = timestamp, SnapshotBuildNumber = build,
        };
    }

    /// <summary>Splits "&lt;artifactId&gt;-&lt;version&gt;[-&lt;classifier&gt;].&lt;ext&gt;", where a SNAPSHOT version may appear
    /// as its timestamped form "1.0-20261122.052800-3". The file must belong to the directory's artifact and version.</summary>
    public static (string? Classifier, string Extension, string? Timestamp, int? Build) ParseFileName(string artifactId, string version, string fileName)
    {
        var prefix = artifactId + "-";
        if (!fileName.StartsWith(prefix, StringComparison.Ordinal))
            throw Mismatch(fileName, $"it does not start with the artifactId '{artifactId}-'");
        var rest = fileName[prefix.Length..];
        string? timestamp = null;
        int? build = null;
        if (rest.StartsWith(version, StringComparison.Ordinal) && rest.Length > version.Length && rest[version.Length] is '.' or '-')
            rest = rest[version.Length..];
        else if (IsSnapshotVersion(version) && rest.StartsWith(version[..^"SNAPSHOT".Length], StringComparison.Ordinal)
                 && TimestampPattern().Match(rest[(version.Length - "SNAPSHOT".Length)..]) is { Success: true } m)
        {
            timestamp = m.Groups[1].Value;
            if (!int.TryParse(m.Groups[2].Value, out var b)) throw Mismatch(fileName, "the build number is not a number");
            build = b;
            rest = rest[(version.Length - "SNAPSHOT".Length + m.Length)..];
        }
        else
            throw Mismatch(fileName, $"it does not carry the version '{version}' of its directory");

        string? classifier = null;
        if (rest.StartsWith('-'))
        {
            var dot = rest.IndexOf('.');
            if (dot <= 1) throw Mismatch(fileName, "it has a classifier but no extension");
            classifier = rest[1..dot];
            rest = rest[dot..];
        }
        if (rest.Length < 2 || rest[0] != '.') throw Mismatch(fileName, "it has no extension");
        return (classifier, rest[1..], timestamp, build);
    }

    private static ArcaException Mismatch(string fileName, string why) =>
        ArcaException.BadRequest($"file name '{fileName}' does not match its path: {why}", "COORDINATES_MISMATCH");
}
