using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Arca.Tests.Http.Helm;

/// <summary>Packages charts the way `helm package` lays them out (&lt;name&gt;/Chart.yaml ... in a gzip'd tar).</summary>
public static class HelmCharts
{
    public static string ChartYaml(string name, string version, string? extra = null) =>
        $"apiVersion: v2\nname: {name}\nversion: {version}\nappVersion: \"1.16.0\"\ndescription: A chart named {name}\ntype: application\n" +
        "keywords:\n  - web\n  - test\nmaintainers:\n  - name: Ada\n    email: ada@example.com\n" +
        "dependencies:\n  - name: common\n    version: 2.x.x\n    repository: https://charts.example.com\n" + (extra ?? "");

    public static byte[] Package(string name, string version, string? extra = null) =>
        Tgz(($"{name}/Chart.yaml", ChartYaml(name, version, extra)),
            ($"{name}/values.yaml", "replicaCount: 1\n"),
            ($"{name}/templates/deployment.yaml", "kind: Deployment\n# " + new string('x', 3000) + "\n"));

    public static byte[] Tgz(params (string Name, string Content)[] entries)
    {
        var ms = new MemoryStream();
        using (var gzip = new GZipStream(ms, CompressionLevel.Optimal, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
            foreach (var (name, content) in entries)
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)) });
        return ms.ToArray();
    }
}
