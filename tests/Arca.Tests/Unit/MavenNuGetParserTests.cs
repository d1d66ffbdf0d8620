using System.Text;
using Arca.Core.Model;
using Arca.Server.Formats.Maven;
using Arca.Server.Formats.NuGet;

namespace Arca.Tests.Unit;

public sealed class MavenNuGetParserTests
{
    [Theory]
    [InlineData("com/acme/util/1.0/util-1.0.jar", "com.acme:util", "1.0", null, "jar", null)]
    [InlineData("com/acme/util/1.0/util-1.0-sources.jar.sha1", "com.acme:util", "1.0", "sources", "jar", "sha1")]
    [InlineData("org/x/y/z/app/2.0/app-2.0.tar.gz", "org.x.y.z:app", "2.0", null, "tar.gz", null)]
    [InlineData("com/acme/util/1.0-SNAPSHOT/util-1.0-20260101.101010-7-tests.jar", "com.acme:util", "1.0-SNAPSHOT", "tests", "jar", null)]
    [InlineData("com/acme/util/1.0-SNAPSHOT/util-1.0-SNAPSHOT.pom.sha512", "com.acme:util", "1.0-SNAPSHOT", null, "pom", "sha512")]
    public void Maven_paths_parse_into_coordinates(string path, string package, string version, string? classifier, string extension, string? checksum)
    {
        var p = MavenPath.Parse(path);
        Assert.Equal(MavenPathKind.ArtifactFile, p.Kind);
        Assert.Equal(package, p.PackageName);
        Assert.Equal(version, p.Version);
        Assert.Equal(classifier, p.Classifier);
        Assert.Equal(extension, p.Extension);
        Assert.Equal(checksum, p.ChecksumAlgorithm);
    }

    [Fact]
    public void Timestamped_snapshot_file_names_carry_timestamp_and_build_number()
    {
        var p = MavenPath.Parse("com/acme/util/1.0-SNAPSHOT/util-1.0-20260101.101010-7.jar");
        Assert.Equal("20260101.101010", p.SnapshotTimestamp);
        Assert.Equal(7, p.SnapshotBuildNumber);
    }

    [Theory]
    [InlineData("com/acme/util/maven-metadata.xml", MavenPathKind.ArtifactMetadata, null)]
    [InlineData("com/acme/util/maven-metadata.xml.md5", MavenPathKind.ArtifactMetadata, null)]
    [InlineData("com/acme/util/1.0-SNAPSHOT/maven-metadata.xml.sha1", MavenPathKind.SnapshotMetadata, "1.0-SNAPSHOT")]
    public void Metadata_paths_are_recognised(string path, MavenPathKind kind, string? version)
    {
        var p = MavenPath.Parse(path);
        Assert.Equal(kind, p.Kind);
        Assert.Equal("com.acme:util", p.PackageName);
        Assert.Equal(version, p.Version);
    }

    [Theory]
    [InlineData("util/1.0/util-1.0.jar")]
    [InlineData("com/acme/util/1.0/other-1.0.jar")]
    [InlineData("com/acme/util/1.0/util-1.1.jar")]
    [InlineData("com/acme/util/1.0/util-1.0")]
    [InlineData("com/acme/util/1.0/util-1.0-.jar")]
    [InlineData("com/acme/util/1.0-SNAPSHOT/util-1.0-2026.jar")]
    [InlineData("com/../util/1.0/util-1.0.jar")]
    [InlineData("/com/acme/util/1.0/util-1.0.jar")]
    [InlineData("maven-metadata.xml")]
    public void Bad_maven_paths_are_400(string path) =>
        Assert.Equal(400, Assert.Throws<ArcaException>(() => MavenPath.Parse(path)).Status);

    [Fact]
    public void Pom_inherits_group_and_version_from_parent_and_refuses_external_entities()
    {
        var pom = MavenPom.Parse(new MemoryStream(Encoding.UTF8.GetBytes("""
            <project xmlns="http://maven.apache.org/POM/4.0.0"><parent><groupId>g</groupId><version>1</version></parent>
            <artifactId>a</artifactId><name> N </name></project>
            """)));
        Assert.Equal(("g", "a", "1", "jar", "N"), (pom.GroupId, pom.ArtifactId, pom.Version, pom.Packaging, pom.Name));
        var xxe = """<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x SYSTEM "file:///etc/passwd">]><project><artifactId>&x;</artifactId></project>""";
        Assert.Equal(400, Assert.Throws<ArcaException>(() => MavenPom.Parse(new MemoryStream(Encoding.UTF8.GetBytes(xxe)))).Status);
    }

    [Fact]
    public void Nuspec_normalizes_version_and_reads_dependency_groups()
    {
        var spec = NuSpec.Parse(new MemoryStream(Encoding.UTF8.GetBytes("""
            <package><metadata><id>My.Pkg</id><version>1.02.0-RC.1</version><description>d</description>
              <dependencies>
                <dependency id="Flat" version="1.0" />
                <group targetFramework="net8.0"><dependency id="Dep" version="[1.0,2.0)" /></group>
                <group />
              </dependencies></metadata></package>
            """)));
        Assert.Equal("1.2.0-RC.1", spec.Version.ToNormalizedString());
        Assert.Equal("1.2.0-rc.1", spec.LowerVersion);
        Assert.Equal("my.pkg", spec.LowerId);
        Assert.Equal(3, spec.DependencyGroups.Count);
        Assert.Null(spec.DependencyGroups[0].TargetFramework);
        Assert.Equal("[1.0.0, )", spec.DependencyGroups[0].Dependencies[0].Range);
        Assert.Equal("net8.0", spec.DependencyGroups[1].TargetFramework);
        Assert.Equal("[1.0.0, 2.0.0)", spec.DependencyGroups[1].Dependencies[0].Range);
        Assert.Empty(spec.DependencyGroups[2].Dependencies);
    }

    [Theory]
    [InlineData("<package><metadata><id>x</id></metadata></package>")]
    [InlineData("<package><metadata><id>x y</id><version>1.0</version></metadata></package>")]
    [InlineData("<package><metadata><id>x</id><version>one</version></metadata></package>")]
    [InlineData("<package><metadata><id>x</id><version>1.0</version><dependencies><dependency id='y' version='[[' /></dependencies></metadata></package>")]
    [InlineData("<package>")]
    public void Invalid_nuspecs_are_400(string xml) =>
        Assert.Equal(400, Assert.Throws<ArcaException>(() => NuSpec.Parse(new MemoryStream(Encoding.UTF8.GetBytes(xml)))).Status);
}
