using System.CommandLine;

namespace Arca.Cli;

public static class GlobalOptions
{
    public static readonly Option<string?> Server = new("--server") { Description = "Arca server URL (env ARCA_SERVER; saved by `arca login`)", Recursive = true };
    public static readonly Option<string?> Token = new("--token") { Description = "API token (env ARCA_TOKEN; saved by `arca login`)", Recursive = true };
    public static readonly Option<string?> Org = new("--org") { Description = "Organization scope", Recursive = true };
    public static readonly Option<string?> Project = new("--project") { Description = "Project scope", Recursive = true };
    public static readonly Option<string> Format = new("--format") { Description = "Output format: table, json or yaml", Recursive = true, DefaultValueFactory = _ => "table" };
    public static readonly Option<bool> Verbose = new("--verbose", "-v") { Description = "Verbose output", Recursive = true };

    public static IEnumerable<Option> All => [Server, Token, Org, Project, Format, Verbose];

    static GlobalOptions()
    {
        Format.AcceptOnlyFromAmong("table", "json", "yaml");
    }
}
