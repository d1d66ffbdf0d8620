using Arca.Core.Model;
using Arca.Server.Formats.Oci;

namespace Arca.Tests.Unit;

public sealed class OciPathTests
{
    [Theory]
    [InlineData("/v2/reg/app/manifests/latest", OciRouteKind.Manifest, "reg", "app", "latest")]
    [InlineData("/v2/reg/team/sub/app/manifests/sha256:abc", OciRouteKind.Manifest, "reg", "team/sub/app", "sha256:abc")]
    [InlineData("/v2/reg/app/blobs/sha256:abc", OciRouteKind.Blob, "reg", "app", "sha256:abc")]
    [InlineData("/v2/reg/app/blobs/uploads/", OciRouteKind.Upload, "reg", "app", "")]
    [InlineData("/v2/reg/app/blobs/uploads", OciRouteKind.Upload, "reg", "app", "")]
    [InlineData("/v2/reg/a/b/blobs/uploads/0123", OciRouteKind.Upload, "reg", "a/b", "0123")]
    [InlineData("/v2/reg/app/tags/list", OciRouteKind.Tags, "reg", "app", null)]
    [InlineData("/v2/reg/app/referrers/sha256:abc", OciRouteKind.Referrers, "reg", "app", "sha256:abc")]
    // A repository may itself contain a segment named like an endpoint: the endpoint is read from the end.
    [InlineData("/v2/reg/manifests/manifests/v1", OciRouteKind.Manifest, "reg", "manifests", "v1")]
    public void Parses_routes_from_the_end(string path, OciRouteKind kind, string registry, string repository, string? argument)
    {
        Assert.True(OciPath.TryParse(path, out var route));
        Assert.Equal(new OciRoute(kind, registry, repository, argument), route);
        Assert.Equal($"{registry}/{repository}", route.Name);
    }

    [Theory]
    [InlineData("/v2/")]
    [InlineData("/v2/reg/manifests/latest")] // no repository after the registry
    [InlineData("/v2/reg/app/unknown/x")]
    [InlineData("/api/v1/reg/app/manifests/x")]
    public void Rejects_paths_that_are_not_repository_endpoints(string path) => Assert.False(OciPath.TryParse(path, out _));

    [Theory]
    [InlineData("app", true)]
    [InlineData("team/app-1.2_x", true)]
    [InlineData("a__b/c--d", true)]
    [InlineData("App", false)]
    [InlineData("app/", false)]
    [InlineData("-app", false)]
    [InlineData("a..b", false)]
    public void Validates_repository_names_with_the_spec_grammar(string name, bool valid) =>
        Assert.Equal(valid, OciPath.IsValidRepository(name));

    [Theory]
    [InlineData("FORBIDDEN", 403, 403, "DENIED")]
    [InlineData("REGISTRY_NOT_FOUND", 404, 404, "NAME_UNKNOWN")]
    [InlineData("WRONG_PACKAGE_TYPE", 400, 404, "NAME_UNKNOWN")]
    [InlineData("INVALID_IDENTIFIER", 400, 400, "NAME_INVALID")]
    [InlineData("DIGEST_INVALID", 400, 400, "DIGEST_INVALID")]
    [InlineData("UNAUTHORIZED", 401, 401, "UNAUTHORIZED")]
    public void Translates_shared_errors_into_spec_codes(string code, int status, int expectedStatus, string expectedCode) =>
        Assert.Equal((expectedStatus, expectedCode), OciErrors.Translate(new ArcaException(status, code, "x")));
}
