using Arca.Server.Formats.Generic;

namespace Arca.Server.Formats;

/// <summary>The list of formats the server speaks. A new format is a folder under Formats/ plus one line here.</summary>
public static class FormatModules
{
    public static IReadOnlyList<IFormatModule> Create() =>
    [
        new GenericModule(),
        new Maven.MavenModule(),
        new NuGet.NuGetModule(),
    ];
}
