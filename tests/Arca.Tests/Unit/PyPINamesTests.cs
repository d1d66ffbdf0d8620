using Arca.Core.Model;
using Arca.Server.Formats.PyPI;

namespace Arca.Tests.Unit;

public sealed class PyPINamesTests
{
    [Theory]
    [InlineData("Django", "django")]
    [InlineData("friendly-bard", "friendly-bard")]
    [InlineData("Friendly_Bard", "friendly-bard")]
    [InlineData("FRIENDLY..bard", "friendly-bard")]
    [InlineData("friendly-._bard", "friendly-bard")]
    public void Normalizes_like_pep_503(string name, string expected) => Assert.Equal(expected, PyPINames.Normalize(name));

    [Theory]
    [InlineData("my_pkg-1.0-py3-none-any.whl", "My-Pkg", "1.0", PyPINames.DistributionKind.Wheel)]
    [InlineData("my_pkg-1.0-1-cp311-cp311-manylinux_2_17_x86_64.whl", "my.pkg", "1.0", PyPINames.DistributionKind.Wheel)]
    [InlineData("my_pkg-1.0.tar.gz", "my-pkg", "1.0", PyPINames.DistributionKind.SdistTarGz)]
    [InlineData("my-pkg-1.0rc1.tar.gz", "my-pkg", "1.0rc1", PyPINames.DistributionKind.SdistTarGz)]
    [InlineData("my_pkg-1.0.zip", "my-pkg", "1.0", PyPINames.DistributionKind.SdistZip)]
    public void Accepts_matching_file_names(string file, string project, string version, PyPINames.DistributionKind kind) =>
        Assert.Equal(kind, PyPINames.ValidateFileName(file, project, version));

    [Theory]
    [InlineData("other-1.0-py3-none-any.whl", "my-pkg", "1.0")]
    [InlineData("my_pkg-2.0-py3-none-any.whl", "my-pkg", "1.0")]
    [InlineData("my_pkg-1.0.whl", "my-pkg", "1.0")]
    [InlineData("my_pkg-1.0.exe", "my-pkg", "1.0")]
    [InlineData("../my_pkg-1.0.tar.gz", "my-pkg", "1.0")]
    [InlineData("my_pkg-1.0.tar.gz/x", "my-pkg", "1.0")]
    public void Refuses_other_file_names(string file, string project, string version) =>
        Assert.Equal(400, Assert.Throws<ArcaException>(() => PyPINames.ValidateFileName(file, project, version)).Status);
}
