using System.CommandLine;
using System.Text.Json;
using Arca.Client;

namespace Arca.Cli.Commands;

/// <summary>`arca endpoint create|list|get|update|delete|ping` (PRODUCT.md "Endpoints and replication").</summary>
public static class EndpointCommands
{
    public static Command Create()
    {
        var cmd = new Command("endpoint", "Manage replication endpoints (remote registries) and test connections to them");
        cmd.Subcommands.Add(CreateCommand());
        cmd.Subcommands.Add(ListCommand());
        cmd.Subcommands.Add(GetCommand());
        cmd.Subcommands.Add(UpdateCommand());
        cmd.Subcommands.Add(DeleteCommand());
        cmd.Subcommands.Add(PingCommand());
        return cmd;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "Endpoint name" };

    private static Command CreateCommand()
    {
        var name = NameArgument();
        var provider = new Option<string>("--provider") { Description = "Remote kind: arca, harbor, docker-hub, docker-registry, ecr, acr, gar, gcr, quay, gitlab, jfrog-artifactory, nexus, helm-http, oci-helm, npm, pypi, maven, nuget", Required = true };
        var url = new Option<string>("--url") { Description = "Remote URL (http:// or https://)", Required = true };
        var credentials = new CredentialOptions();
        var noVerify = new Option<bool>("--no-verify-cert") { Description = "Do not verify the remote's TLS certificate" };
        var description = new Option<string?>("--description") { Description = "Description" };
        var noPing = new Option<bool>("--no-ping") { Description = "Create without testing the connection" };
        var cmd = new Command("create", "Create an endpoint (tests the connection unless --no-ping)") { name, provider, url, noVerify, description, noPing };
        credentials.AddTo(cmd);
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            var (username, password) = credentials.Read(parse);
            using var client = ctx.CreateClient();
            var noPingValue = parse.GetValue(noPing);
            var created = await client.PostAsync($"api/v1/endpoints{(noPingValue ? "?ping=false" : "")}", new
            {
                name = parse.GetValue(name), provider = parse.GetValue(provider), url = parse.GetValue(url), username, password,
                verifyRemoteCert = !parse.GetValue(noVerify), description = parse.GetValue(description),
            }, ct);
            PrintEndpoint(ctx.Output, created);
            if (created.TryGetProperty("ping", out var ping) && !IsHealthy(ping))
                ctx.Output.Info($"warning: endpoint created, but the connection test failed: {Reason(ping)}");
            return 0;
        }));
        return cmd;
    }

    private static Command ListCommand()
    {
        var cmd = new Command("list", "List endpoints");
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var result = await client.GetAsync("api/v1/endpoints", ct);
            ctx.Output.Print(result, result.GetProperty("items"),
                ("NAME", e => Str(e, "name")), ("PROVIDER", e => Str(e, "provider")), ("URL", e => Str(e, "url")),
                ("CREDENTIALS", e => !Bool(e, "hasCredentials") ? "none" : Str(e, "username") ?? "token"),
                ("VERIFY", e => Bool(e, "verifyRemoteCert") ? "yes" : "no"), ("DESCRIPTION", e => Str(e, "description")));
            return 0;
        }));
        return cmd;
    }

    private static Command GetCommand()
    {
        var name = NameArgument();
        var cmd = new Command("get", "Show an endpoint") { name };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            PrintEndpoint(ctx.Output, await client.GetAsync($"api/v1/endpoints/{ArcaApiClient.Q(parse.GetValue(name)!)}", ct));
            return 0;
        }));
        return cmd;
    }

    private static Command UpdateCommand()
    {
        var name = NameArgument();
        var provider = new Option<string?>("--provider") { Description = "New provider" };
        var url = new Option<string?>("--url") { Description = "New URL (drops the stored credentials unless new ones are given)" };
        var credentials = new CredentialOptions();
        var verify = new Option<bool>("--verify-cert") { Description = "Verify the remote's TLS certificate" };
        var noVerify = new Option<bool>("--no-verify-cert") { Description = "Do not verify the remote's TLS certificate" };
        var description = new Option<string?>("--description") { Description = "New description" };
        var clear = new Option<bool>("--clear-credentials") { Description = "Remove the stored credentials" };
        var cmd = new Command("update", "Change an endpoint") { name, provider, url, verify, noVerify, description, clear };
        credentials.AddTo(cmd);
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            if (parse.GetValue(verify) && parse.GetValue(noVerify)) throw new CliUsageException("--verify-cert and --no-verify-cert exclude each other");
            var (username, password) = credentials.Read(parse, passwordRequired: false);
            bool? verifyValue = parse.GetValue(verify) ? true : parse.GetValue(noVerify) ? false : null;
            using var client = ctx.CreateClient();
            var endpointPath = $"api/v1/endpoints/{ArcaApiClient.Q(parse.GetValue(name)!)}";
            var before = await client.GetAsync(endpointPath, ct);
            var updated = await client.PatchAsync(endpointPath, new
            {
                provider = parse.GetValue(provider), url = parse.GetValue(url), username, password, verifyRemoteCert = verifyValue,
                description = parse.GetValue(description), clearCredentials = parse.GetValue(clear) ? true : (bool?)null,
            }, ct);
            PrintEndpoint(ctx.Output, updated);
            if (Bool(before, "hasCredentials") && !Bool(updated, "hasCredentials") && !parse.GetValue(clear))
                ctx.Output.Info("note: the URL changed, so the stored credentials were dropped; set them again with --username/--password");
            return 0;
        }));
        return cmd;
    }

    private static Command DeleteCommand()
    {
        var name = NameArgument();
        var cmd = new Command("delete", "Delete an endpoint (refused while a replication rule uses it)") { name };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            await client.DeleteAsync($"api/v1/endpoints/{ArcaApiClient.Q(parse.GetValue(name)!)}", ct);
            ctx.Output.Info($"endpoint '{parse.GetValue(name)}' deleted");
            return 0;
        }));
        return cmd;
    }

    private static Command PingCommand()
    {
        var name = new Argument<string?>("name") { Description = "Saved endpoint to test (omit it to test --provider/--url before saving)", Arity = ArgumentArity.ZeroOrOne };
        var provider = new Option<string?>("--provider") { Description = "Unsaved definition: remote kind" };
        var url = new Option<string?>("--url") { Description = "Unsaved definition: remote URL" };
        var credentials = new CredentialOptions();
        var noVerify = new Option<bool>("--no-verify-cert") { Description = "Unsaved definition: do not verify the remote's TLS certificate" };
        var cmd = new Command("ping", "Test the connection: exit 0 when the remote is reachable and the credentials work") { name, provider, url, noVerify };
        credentials.AddTo(cmd);
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            JsonElement result;
            if (parse.GetValue(name) is { } saved)
            {
                if (parse.GetValue(provider) is not null || parse.GetValue(url) is not null)
                    throw new CliUsageException("give either an endpoint name or --provider/--url, not both");
                result = await client.PostAsync($"api/v1/endpoints/{ArcaApiClient.Q(saved)}/ping", null, ct);
            }
            else
            {
                if (parse.GetValue(provider) is null || parse.GetValue(url) is null)
                    throw new CliUsageException("give an endpoint name, or --provider and --url to test an unsaved definition");
                var (username, password) = credentials.Read(parse);
                result = await client.PostAsync("api/v1/endpoints/ping", new
                {
                    provider = parse.GetValue(provider), url = parse.GetValue(url), username, password, verifyRemoteCert = !parse.GetValue(noVerify),
                }, ct);
            }
            PrintPing(ctx.Output, result);
            if (IsHealthy(result)) return 0;
            Console.Error.WriteLine($"error: {Reason(result)}");
            return 1;
        }));
        return cmd;
    }

    /// <summary>--username, --password, --password-stdin (keeps the secret out of the process list and shell history).</summary>
    private sealed class CredentialOptions
    {
        private readonly Option<string?> _username = new("--username", "-u") { Description = "User name on the remote" };
        private readonly Option<string?> _password = new("--password", "-p") { Description = "Password or token on the remote" };
        private readonly Option<bool> _passwordStdin = new("--password-stdin") { Description = "Read the password or token from standard input" };

        public void AddTo(Command cmd)
        {
            cmd.Options.Add(_username);
            cmd.Options.Add(_password);
            cmd.Options.Add(_passwordStdin);
        }

        public (string? Username, string? Password) Read(ParseResult parse, bool passwordRequired = true)
        {
            var username = parse.GetValue(_username);
            var password = parse.GetValue(_password);
            if (parse.GetValue(_passwordStdin))
            {
                if (password is not null) throw new CliUsageException("--password and --password-stdin exclude each other");
                password = Console.In.ReadToEnd().TrimEnd('\r', '\n');
                if (password.Length == 0) throw new CliUsageException("--password-stdin: standard input is empty");
            }
            if (passwordRequired && !string.IsNullOrEmpty(username) && string.IsNullOrEmpty(password))
                throw new CliUsageException("--username needs --password or --password-stdin");
            return (username, password);
        }
    }

    private static void PrintEndpoint(Output output, JsonElement e)
    {
        var fields = new List<(string, Func<JsonElement, string?>)>
        {
            ("Name", x => Str(x, "name")), ("Provider", x => Str(x, "provider")), ("URL", x => Str(x, "url")),
            ("Username", x => Str(x, "username")), ("Credentials", x => Bool(x, "hasCredentials") ? "stored (encrypted)" : "none"),
            ("Verify cert", x => Bool(x, "verifyRemoteCert") ? "yes" : "no"), ("Description", x => Str(x, "description")),
            ("Created", x => Str(x, "createdAt")), ("Updated", x => Str(x, "updatedAt")),
        };
        if (e.TryGetProperty("ping", out var ping) && ping.ValueKind == JsonValueKind.Object)
            fields.Add(("Connection", _ => PingSummary(ping)));
        output.PrintObject(e, [.. fields]);
    }

    private static void PrintPing(Output output, JsonElement p) =>
        output.PrintObject(p,
            ("Reachable", x => Bool(x, "reachable") ? "yes" : "no"), ("Authenticated", x => Bool(x, "authenticated") ? "yes" : "no"),
            ("Status", x => x.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32().ToString() : ""),
            ("Reason", x => Str(x, "reason")), ("URL", x => Str(x, "url")),
            ("Duration", x => x.TryGetProperty("durationMs", out var d) && d.ValueKind == JsonValueKind.Number ? $"{d.GetInt64()} ms" : ""));

    private static string PingSummary(JsonElement p) =>
        IsHealthy(p) ? "ok (reachable, authenticated)" : $"failed: {Reason(p)}";

    private static bool IsHealthy(JsonElement p) => Bool(p, "reachable") && Bool(p, "authenticated");

    private static string Reason(JsonElement p) => Str(p, "reason") ?? (Bool(p, "reachable") ? "not authenticated" : "not reachable");

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
