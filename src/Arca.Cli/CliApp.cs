using System.CommandLine;
using Arca.Cli.Commands;

namespace Arca.Cli;

/// <summary>The `arca` command tree (PRODUCT.md "CLI"). Each command group lives in Commands/.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Arca: a self-hosted universal artifact registry and migration tool");
        foreach (var option in GlobalOptions.All) root.Options.Add(option);
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ImageCommands.Create());
        foreach (var c in ManagementCommands.Create()) root.Subcommands.Add(c);
        root.Subcommands.Add(EndpointCommands.Create());
        root.Subcommands.Add(ReplicationCommands.Create());
        // No response files: arguments such as npm's "@scope/name@1.0.0" start with '@' and must stay literal.
        var parse = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        return await parse.InvokeAsync();
    }
}
