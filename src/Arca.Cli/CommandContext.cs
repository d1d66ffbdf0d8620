using System.CommandLine;
using Arca.Client;

namespace Arca.Cli;

/// <summary>Resolves the connection (flag &gt; env &gt; saved login) and output settings for one command run.</summary>
public sealed class CommandContext
{
    public required string Server { get; init; }
    public string? Token { get; init; }
    public required Output Output { get; init; }
    public string? Org { get; init; }
    public string? Project { get; init; }

    public static CommandContext From(ParseResult parse)
    {
        var saved = CliConfig.Load();
        var server = parse.GetValue(GlobalOptions.Server) ?? Env("ARCA_SERVER") ?? saved.Server ?? "http://127.0.0.1:8080";
        var token = parse.GetValue(GlobalOptions.Token) ?? Env("ARCA_TOKEN") ?? saved.Token;
        return new CommandContext
        {
            Server = server, Token = token,
            Output = new Output(parse.GetValue(GlobalOptions.Format) ?? "table", parse.GetValue(GlobalOptions.Verbose)),
            Org = parse.GetValue(GlobalOptions.Org), Project = parse.GetValue(GlobalOptions.Project),
        };
    }

    public ArcaApiClient CreateClient() => new(Server, Token);

    private static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
}

/// <summary>Runs a command body with the CLI's error convention: one-line error on stderr, non-zero exit code.</summary>
public static class Run
{
    public static Func<ParseResult, CancellationToken, Task<int>> Action(Func<ParseResult, CommandContext, CancellationToken, Task<int>> body) =>
        async (parse, ct) =>
        {
            CommandContext? ctx = null;
            try
            {
                ctx = CommandContext.From(parse);
                return await body(parse, ctx, ct);
            }
            catch (ArcaClientException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return e.Status is System.Net.HttpStatusCode.NotFound ? 4 : e.Status is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden ? 3 : 1;
            }
            catch (CliUsageException e)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 2;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("cancelled");
                return 130;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or HttpRequestException or System.Text.Json.JsonException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                if (ctx?.Output.Verbose == true) Console.Error.WriteLine(e);
                return 1;
            }
        };
}

/// <summary>Bad command-line usage (exit code 2).</summary>
public sealed class CliUsageException(string message) : Exception(message);
