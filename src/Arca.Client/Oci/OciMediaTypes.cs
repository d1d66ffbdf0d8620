namespace Arca.Client.Oci;

/// <summary>Manifest media types of the OCI image spec and Docker's schema 2.</summary>
public static class OciMediaTypes
{
    public const string ImageManifest = "application/vnd.oci.image.manifest.v1+json";
    public const string ImageIndex = "application/vnd.oci.image.index.v1+json";
    public const string ArtifactManifest = "application/vnd.oci.artifact.manifest.v1+json";
    public const string DockerManifest = "application/vnd.docker.distribution.manifest.v2+json";
    public const string DockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json";
    public const string DockerManifestV1Signed = "application/vnd.docker.distribution.manifest.v1+prettyjws";
    public const string DockerManifestV1 = "application/vnd.docker.distribution.manifest.v1+json";
    public const string EmptyJson = "application/vnd.oci.empty.v1+json";
    /// <summary>The config media type that makes an image manifest a Helm chart (Helm 3 OCI support).</summary>
    public const string HelmConfig = "application/vnd.cncf.helm.config.v1+json";

    /// <summary>Every manifest type we can copy, for Accept headers (the registry otherwise may convert).</summary>
    public static readonly string[] AllManifests =
        [ImageIndex, ImageManifest, DockerManifestList, DockerManifest, ArtifactManifest, DockerManifestV1Signed, DockerManifestV1];

    public static bool IsIndex(string? mediaType) => mediaType is ImageIndex or DockerManifestList;
}
