using Arca.Core.Model;
using Arca.Core.Validation;

namespace Arca.Tests.Unit;

public sealed class ValidationUnitTests
{
    [Theory]
    [InlineData("a.txt")]
    [InlineData("dir/sub/file-1.2.tar.gz")]
    [InlineData("with space/ü.bin")]
    public void Valid_paths_pass(string path) => Assert.Equal(path, PathValidator.Validate(path));

    [Theory]
    [InlineData("")]
    [InlineData("/abs")]
    [InlineData("../x")]
    [InlineData("a/../b")]
    [InlineData("a/./b")]
    [InlineData("a//b")]
    [InlineData("a\\b")]
    [InlineData("c:evil")]
    [InlineData("a\0b")]
    [InlineData("a%2e%2e")]
    [InlineData("trailing/")]
    public void Dangerous_paths_are_refused(string path)
    {
        var e = Assert.Throws<ArcaException>(() => PathValidator.Validate(path));
        Assert.Equal(400, e.Status);
        Assert.Equal("INVALID_PATH", e.Code);
    }

    [Theory]
    [InlineData("ab", true)]
    [InlineData("docker-local", true)]
    [InlineData("a.b_c-d", true)]
    [InlineData("a", false)]
    [InlineData("-ab", false)]
    [InlineData("Ab", false)]
    [InlineData("a/b", false)]
    public void Registry_identifiers(string name, bool ok) => Assert.Equal(ok, Identifiers.IsValidRegistryName(name));

    [Fact]
    public void Registry_identifier_is_at_most_63_characters()
    {
        Assert.True(Identifiers.IsValidRegistryName(new string('a', 63)));
        Assert.False(Identifiers.IsValidRegistryName(new string('a', 64)));
    }

    [Fact]
    public void Metadata_text_parses_key_value_pairs()
    {
        var m = Identifiers.ParseMetadata("team:core, url:http://x:1/y ,empty:");
        Assert.Equal("core", m["team"]);
        Assert.Equal("http://x:1/y", m["url"]);
        Assert.Equal("", m["empty"]);
        Assert.Throws<ArcaException>(() => Identifiers.ParseMetadata("novalue"));
        Assert.Throws<ArcaException>(() => Identifiers.ParseMetadata(":v"));
        Assert.Throws<ArcaException>(() => Identifiers.ParseMetadata("bad key:v"));
    }

    [Theory]
    [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", true)]
    [InlineData("sha512:cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e", true)]
    [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", false)]
    [InlineData("sha256:abc", false)]
    [InlineData("md5:d41d8cd98f00b204e9800998ecf8427e", false)]
    [InlineData("sha256:../../../../etc/passwd000000000000000000000000000000000000000", false)]
    public void Digests(string text, bool ok) => Assert.Equal(ok, Digest.TryParse(text, out _));

    [Theory]
    [InlineData("/pkg/r/generic/p/1/../x", true)]
    [InlineData("/pkg/r/generic/p/1/%2E%2e/x", true)]
    [InlineData("/pkg/r/generic/p/1/a%5Cb", true)]
    [InlineData("/pkg/r/generic/p/1/a%00b", true)]
    [InlineData("/pkg/r/generic/p/1/a..b/c", false)]
    [InlineData("/pkg/r/npm/@scope%2fname", false)]
    public void Raw_target_checks(string target, bool refused)
    {
        var ctx = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        ctx.Features.Set<Microsoft.AspNetCore.Http.Features.IHttpRequestFeature>(new Microsoft.AspNetCore.Http.Features.HttpRequestFeature { RawTarget = target, Path = "/" });
        Assert.Equal(refused, Arca.Server.Hosting.ErrorHandlingMiddleware.RawTargetProblem(ctx) is not null);
    }

    [Theory]
    [InlineData("30d", 30 * 24 * 3600)]
    [InlineData("12h", 12 * 3600)]
    [InlineData("90m", 90 * 60)]
    [InlineData("2w", 14 * 24 * 3600)]
    [InlineData("7", 7 * 24 * 3600)]
    public void Durations(string text, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), Arca.Server.Api.TokenEndpoints.ParseDuration(text));

    [Theory]
    [InlineData("0d")]
    [InlineData("abc")]
    [InlineData("-3h")]
    public void Bad_durations(string text) => Assert.Throws<ArcaException>(() => Arca.Server.Api.TokenEndpoints.ParseDuration(text));

    [Theory]
    [InlineData("500M", 500L << 20)]
    [InlineData("10G", 10L << 30)]
    [InlineData("1GiB", 1L << 30)]
    [InlineData("4096", 4096)]
    public void Sizes(string text, long bytes) => Assert.Equal(bytes, Arca.Cli.Commands.Sizes.ParseOrNull(text));
}
