using System.IO.Compression;
using System.Text;

namespace Arca.Tests.Migration;

/// <summary>Minimal but valid Maven artifacts for migration sources (a jar with a manifest, a jar-packaged POM).</summary>
internal static class MavenTestContent
{
    public static byte[] Jar(string text)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
        using (var w = new StreamWriter(zip.CreateEntry("META-INF/MANIFEST.MF").Open()))
            w.Write("Manifest-Version: 1.0\n" + text + "\n");
        return ms.ToArray();
    }

    public static byte[] Pom(string g, string a, string v) => Encoding.UTF8.GetBytes($"""
        <?xml version="1.0" encoding="UTF-8"?>
        <project xmlns="http://maven.apache.org/POM/4.0.0">
          <modelVersion>4.0.0</modelVersion>
          <groupId>{g}</groupId><artifactId>{a}</artifactId><version>{v}</version><packaging>jar</packaging>
        </project>
        """);
}
