using Arca.Migration.Sources;

namespace Arca.Tests.Unit;

/// <summary>The directory listings the MAVEN migration source walks, as nginx, Apache, python http.server and
/// repository managers' browse pages write them.</summary>
public sealed class HtmlDirectoryListingTests
{
    private static readonly Uri Dir = new("http://repo.example:8081/releases/com/acme/");

    private static string[] Parse(string html) =>
        HtmlDirectoryListing.Parse(html, Dir).Select(e => e.IsDirectory ? e.Name + "/" : e.Name).ToArray();

    [Fact]
    public void Nginx_autoindex()
    {
        const string html = """
            <html><head><title>Index of /releases/com/acme/</title></head><body><h1>Index of /releases/com/acme/</h1><hr><pre><a href="../">../</a>
            <a href="util/">util/</a>                                              01-Jan-2024 10:00                   -
            <a href="maven-metadata.xml">maven-metadata.xml</a>                                 01-Jan-2024 10:00                 312
            </pre><hr></body></html>
            """;
        Assert.Equal(["util/", "maven-metadata.xml"], Parse(html));
    }

    [Fact]
    public void Apache_autoindex_skips_sort_links_and_the_parent()
    {
        const string html = """
            <table><tr><th><a href="?C=N;O=D">Name</a></th><th><a href="?C=M;O=A">Last modified</a></th></tr>
            <tr><td><a href="/releases/com/">Parent Directory</a></td></tr>
            <tr><td><a href='util/'>util/</a></td></tr>
            <tr><td><A HREF=tool/>tool/</A></td></tr>
            </table>
            """;
        Assert.Equal(["util/", "tool/"], Parse(html));
    }

    [Fact]
    public void Python_http_server_with_escaped_names_and_absolute_links()
    {
        const string html = """
            <ul>
            <li><a href="web-1.3.0%2Bbuild.5.tgz">web-1.3.0+build.5.tgz</a></li>
            <li><a href="a%20b.jar">a b.jar</a></li>
            <li><a href="http://repo.example:8081/releases/com/acme/nexus/">nexus/</a></li>
            <li><a href="https://maven.apache.org/">elsewhere</a></li>
            <li><a href="http://repo.example:8081/releases/org/">sibling tree</a></li>
            <li><a href="util/deeper/">not a direct child</a></li>
            <li><a href="#top">anchor</a></li>
            </ul>
            """;
        Assert.Equal(["web-1.3.0+build.5.tgz", "a b.jar", "nexus/"], Parse(html));
    }
}
