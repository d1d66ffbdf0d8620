using Arca.Cli.Transfer;
using Arca.Core.Model;
using Arca.Core.Validation;
using Arca.Server.Formats.Go;
using Arca.Server.Formats.Helm;
using Arca.Tests.Http.Helm;

namespace Arca.Tests.Unit;

public sealed class GoHelmParsingTests
{
    [Theory]
    [InlineData("1.0.0", "1.0.1")]
    [InlineData("1.0.0-alpha", "1.0.0")]
    [InlineData("1.0.0-alpha", "1.0.0-alpha.1")]
    [InlineData("1.0.0-alpha.1", "1.0.0-alpha.beta")]
    [InlineData("1.0.0-beta.2", "1.0.0-beta.11")]
    [InlineData("1.0.0-rc.1", "1.0.0")]
    [InlineData("1.2.0", "1.10.0")]
    public void Semver_precedence(string lower, string higher)
    {
        Assert.True(SemVer2.TryParse(lower, out var a));
        Assert.True(SemVer2.TryParse(higher, out var b));
        Assert.True(a.CompareTo(b) < 0);
        Assert.True(b.CompareTo(a) > 0);
    }

    [Theory]
    [InlineData("1.0")]
    [InlineData("01.0.0")]
    [InlineData("1.0.0-")]
    [InlineData("1.0.0-01")]
    [InlineData("1.0.0+")]
    [InlineData("v1.0.0")]
    [InlineData("1.0.0-a..b")]
    public void Semver_rejects_invalid(string text) => Assert.False(SemVer2.TryParse(text, out _));

    [Theory]
    [InlineData("github.com/Azure/SDK", "github.com/!azure/!s!d!k")]
    [InlineData("example.com/lower", "example.com/lower")]
    public void Case_encoding_round_trips(string plain, string encoded)
    {
        Assert.Equal(encoded, GoModulePath.Encode(plain));
        Assert.Equal(plain, GoModulePath.Decode(encoded));
    }

    [Theory]
    [InlineData("example.com/Upper")]
    [InlineData("example.com/!")]
    [InlineData("example.com/!1")]
    public void Invalid_case_encoding_is_refused(string encoded) => Assert.Null(GoModulePath.Decode(encoded));

    [Theory]
    [InlineData("example.com/x", "v1.0.0", true)]
    [InlineData("example.com/x", "v2.0.0", false)]
    [InlineData("example.com/x", "v2.0.0+incompatible", true)]
    [InlineData("example.com/x/v2", "v2.1.0", true)]
    [InlineData("example.com/x/v2", "v1.0.0", false)]
    [InlineData("example.com/x", "v1.0", false)]
    [InlineData("example.com/x", "1.0.0", false)]
    [InlineData("example.com/x", "v1.0.0+build", false)]
    public void Module_versions_follow_the_major_version_rule(string module, string version, bool ok)
    {
        var valid = true;
        try { GoModulePath.CheckMajor(module, version, GoModulePath.ParseVersion(version)); }
        catch (ArcaException) { valid = false; }
        Assert.Equal(ok, valid);
    }

    [Theory]
    [InlineData("noDot/x")]
    [InlineData("Example.com/x")]
    [InlineData("example.com//x")]
    [InlineData("example.com/x/")]
    [InlineData("example.com/.hidden")]
    [InlineData("example.com/a b")]
    public void Invalid_module_paths_are_refused(string module) => Assert.Throws<ArcaException>(() => GoModulePath.Validate(module));

    [Theory]
    [InlineData("module example.com/m\n", "example.com/m")]
    [InlineData("// comment\nmodule \"example.com/q\" // trailing\n\ngo 1.19\n", "example.com/q")]
    [InlineData("go 1.19\n", null)]
    public void Module_directive_is_read_from_go_mod(string goMod, string? expected) =>
        Assert.Equal(expected, GoModuleZip.ModuleDirective(System.Text.Encoding.UTF8.GetBytes(goMod)));

    [Theory]
    [InlineData("vendor/x/y.go", false, true)]
    [InlineData("vendor/modules.txt", false, false)]
    [InlineData("vendor/modules.txt", true, true)]
    [InlineData("pkg/vendor/vendor.go", true, false)]
    [InlineData(".hg_archival.txt", false, true)]
    [InlineData("main.go", false, false)]
    public void Module_zip_omits_vendored_files(string path, bool modern, bool omitted) =>
        Assert.Equal(omitted, GoModuleZipBuilder.IsOmitted(path, modern));

    [Fact]
    public async Task Chart_metadata_is_read_from_the_archive()
    {
        var meta = await ChartArchive.ReadMetadataAsync(new MemoryStream(HelmCharts.Package("unit", "0.0.1-dev.3")), CancellationToken.None);
        Assert.Equal("unit", meta.Name);
        Assert.Equal("0.0.1-dev.3", meta.Version);
        Assert.Equal("1.16.0", meta.AppVersion);
        Assert.Equal("Ada", meta.Maintainers![0].Name);
        Assert.Equal("2.x.x", meta.Dependencies![0].Version);
        var roundTrip = ChartMetadata.FromProperties(meta.ToPropertiesJson())!;
        Assert.Equal(meta.Description, roundTrip.Description);
        Assert.Equal(meta.Keywords, roundTrip.Keywords);
    }
}
