using System.CommandLine;

namespace Arca.Cli.Commands;

public static class ManagementCommands
{
    public static IEnumerable<Command> Create() => [];
}
