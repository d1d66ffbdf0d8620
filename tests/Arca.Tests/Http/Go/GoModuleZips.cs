using System.IO.Compression;
using System.Text;

namespace Arca.Tests.Http.Go;

/// <summary>Builds module zips in memory for HTTP-level tests (small, hand-made, including deliberately broken ones).</summary>
public static class GoModuleZips
{
    public static byte[] Build(params (string Name, string Content)[] entries) => Build(CompressionLevel.Optimal, entries);

    public static byte[] Build(CompressionLevel level, params (string Name, string Content)[] entries)
    {
        var ms = new MemoryStream();
        using (var zip = new ZipArchive(ms, ZipArchiveMode.Create, leaveOpen: true))
            foreach (var (name, content) in entries)
            {
                using var s = zip.CreateEntry(name, level).Open();
                s.Write(Encoding.UTF8.GetBytes(content));
            }
        return ms.ToArray();
    }

    public static byte[] Module(string module, string version, string goMod, string code = "package lib\n\nfunc Answer() int { return 42 }\n") =>
        Build(($"{module}@{version}/go.mod", goMod), ($"{module}@{version}/lib.go", code));
}
