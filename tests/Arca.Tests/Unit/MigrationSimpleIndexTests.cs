using Arca.Migration.Destinations;
using Arca.Migration.Sources;

namespace Arca.Tests.Unit;

/// <summary>Parsing PEP 503 pages and distribution file names for PYTHON migrations.</summary>
public sealed class MigrationSimpleIndexTests
{
    [Fact]
    public void Html_project_list_resolves_relative_links()
    {
        var root = new Uri("http://h/repo/simple/");
        var page = new SimpleIndex.Page(null, "<html><body><a href='demo-lib/'>Demo_Lib</a><br/><A HREF=\"/abs/other/\">other</A></body></html>");
        var projects = SimpleIndex.Projects(page, root).ToList();
        Assert.Equal([("Demo_Lib", new Uri("http://h/repo/simple/demo-lib/")), ("other", new Uri("http://h/abs/other/"))], projects);
    }

    [Theory]
    [InlineData("demo_lib-1.0-py3-none-any.whl", "1.0")]
    [InlineData("demo_lib-1.0rc1-1-cp311-cp311-manylinux_2_17_x86_64.whl", "1.0rc1")]
    [InlineData("demo-lib-2.0.post1.tar.gz", "2.0.post1")]
    [InlineData("demo-lib-3.0.zip", "3.0")]
    [InlineData("demo-lib-3.0.exe", null)]
    public void Version_from_file_name(string fileName, string? version) => Assert.Equal(version, PythonFileNames.VersionOf(fileName));

    [Fact]
    public void Kinds_and_normalisation()
    {
        Assert.Equal(PythonFileNames.Kind.Wheel, PythonFileNames.KindOf("a-1-py3-none-any.whl"));
        Assert.Equal(PythonFileNames.Kind.Sdist, PythonFileNames.KindOf("a-1.tar.gz"));
        Assert.Null(PythonFileNames.KindOf("a-1.egg"));
        Assert.Equal("my-cool-pkg", PythonFileNames.Normalize("My_Cool..Pkg"));
    }
}
