using System.CommandLine;
using System.Text.Json;
using Arca.Client;

namespace Arca.Cli.Commands;

/// <summary>arca login | logout | status</summary>
public static class AccountCommands
{
    public static IEnumerable<Command> Create()
    {
        var login = new Command("login", "Check a server URL and token, then save them in the user's config dir");
        var tokenStdin = new Option<bool>("--token-stdin") { Description = "Read the token from standard input" };
        login.Options.Add(tokenStdin);
        login.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            var token = parse.GetValue(tokenStdin) ? (await Console.In.ReadToEndAsync(ct)).Trim() : ctx.Token;
            if (string.IsNullOrEmpty(token)) throw new CliUsageException("a token is required: --token T, --token-stdin or ARCA_TOKEN");
            using var client = new ArcaApiClient(ctx.Server, token);
            var me = await client.GetAsync("api/v1/whoami", ct);
            if (!me.GetProperty("authenticated").GetBoolean()) throw new ArcaClientException("the server did not accept the token");
            new CliConfig(ctx.Server.TrimEnd('/'), token).Save();
            ctx.Output.Print(JsonSerializer.SerializeToElement(new { server = ctx.Server.TrimEnd('/'), name = me.GetProperty("name").GetString(), saved = CliConfig.FilePath }),
                ("SERVER", e => e.GetProperty("server").GetString()), ("TOKEN", e => e.GetProperty("name").GetString()), ("SAVED TO", e => e.GetProperty("saved").GetString()));
            return 0;
        }));

        var logout = new Command("logout", "Forget the saved server and token");
        logout.SetAction(Run.Action((parse, ctx, ct) =>
        {
            CliConfig.Delete();
            ctx.Output.Info("logged out");
            return Task.FromResult(0);
        }));

        var status = new Command("status", "Show the server, the token in use and whether the server is healthy");
        status.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var health = await client.GetAsync("healthz", ct);
            var me = await client.GetAsync("api/v1/whoami", ct);
            var data = JsonSerializer.SerializeToElement(new
            {
                server = ctx.Server, healthy = health.GetProperty("status").GetString() == "ok",
                authenticated = me.GetProperty("authenticated").GetBoolean(), token = me.GetProperty("name").GetString(),
                scope = me.TryGetProperty("scope", out var s) ? s.GetString() : null,
                registry = me.TryGetProperty("registry", out var r) ? r.GetString() : null,
                version = me.GetProperty("version").GetString(),
            });
            ctx.Output.PrintObject(data, ("Server", e => e.GetProperty("server").GetString()), ("Healthy", e => e.GetProperty("healthy").ToString()),
                ("Authenticated", e => e.GetProperty("authenticated").ToString()), ("Token", e => e.GetProperty("token").GetString()),
                ("Scope", e => Str(e, "scope")), ("Registry", e => Str(e, "registry")), ("Server version", e => e.GetProperty("version").GetString()));
            return 0;
        }));
        return [login, logout, status];
    }

    internal static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? (v.ValueKind == JsonValueKind.String ? v.GetString() : v.ToString()) : null;
}
