using Arca.Server.Formats.Generic;
using Arca.Server.Formats.Go;
using Arca.Server.Formats.Helm;
using Arca.Server.Formats.Maven;
using Arca.Server.Formats.Npm;
using Arca.Server.Formats.NuGet;
using Arca.Server.Formats.Oci;
using Arca.Server.Formats.PyPI;

namespace Arca.Server.Formats;

/// <summary>The list of formats the server speaks. A new format is a folder under Formats/ plus one line here.</summary>
public static class FormatModules
{
    public static IReadOnlyList<IFormatModule> Create() =>
    [
        new GenericModule(),
        new GoModule(),
        new HelmModule(),
        new OciModule(),
        new NpmModule(),
        new PyPIModule(),
        new MavenModule(),
        new NuGetModule(),
    ];
}
