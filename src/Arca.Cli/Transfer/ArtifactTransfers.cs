namespace Arca.Cli.Transfer;

/// <summary>The formats `arca artifact push|pull` knows. A new format is a file in this folder plus one line here.</summary>
public static class ArtifactTransfers
{
    public static readonly IReadOnlyList<IArtifactTransfer> All =
    [
        new GenericTransfer(),
        new GoTransfer(),
        new HelmTransfer(),
        new NpmTransfer(),
        new PythonTransfer(),
        new MavenTransfer(),
        new NuGetTransfer(),
    ];
}
