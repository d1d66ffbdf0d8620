using System.CommandLine;

namespace Arca.Cli.Commands;

/// <summary>Every command that talks to a server through the management API.</summary>
public static class ManagementCommands
{
    public static IEnumerable<Command> Create() =>
    [
        .. AccountCommands.Create(),
        RegistryCommands.Create(),
        ArtifactCommands.Create(),
        TokenCommands.Create(),
        TokenCommands.Gc(),
    ];
}
