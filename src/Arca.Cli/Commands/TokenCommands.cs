using System.CommandLine;
using System.Text.Json;
using Arca.Client;
using static Arca.Cli.Commands.AccountCommands;

namespace Arca.Cli.Commands;

/// <summary>arca token create|list|revoke, and arca gc.</summary>
public static class TokenCommands
{
    public static Command Create()
    {
        var token = new Command("token", "Manage API tokens");
        var name = new Option<string>("--name") { Description = "Token name (unique)", Required = true };
        var scope = new Option<string>("--scope") { Description = "read, write, delete or admin (each includes the ones before it)", Required = true };
        scope.AcceptOnlyFromAmong("read", "write", "delete", "admin");
        var registry = new Option<string?>("--registry") { Description = "Limit the token to this registry" };
        var expires = new Option<string?>("--expires-in") { Description = "Lifetime, e.g. 30d, 12h (default: never expires)" };
        var create = new Command("create", "Create a token (the secret is printed once; json field `token`)") { name, scope, registry, expires };
        create.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var r = await client.PostAsync("api/v1/tokens", new { name = parse.GetValue(name), scope = parse.GetValue(scope), registry = parse.GetValue(registry), expiresIn = parse.GetValue(expires) }, ct);
            if (ctx.Output.IsTable)
            {
                ctx.Output.PrintObject(r, ("Name", e => Str(e, "name")), ("Scope", e => Str(e, "scope")), ("Registry", e => Str(e, "registry") ?? "(all)"),
                    ("Expires", e => Str(e, "expiresAt") ?? "never"), ("Token", e => Str(e, "token")));
                ctx.Output.Info("Save the token now: it is not shown again.");
            }
            else ctx.Output.Print(r);
            return 0;
        }));

        var list = new Command("list", "List tokens (never their secrets)");
        list.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var r = await client.GetAsync("api/v1/tokens", ct);
            ctx.Output.Print(r, r.GetProperty("items"), ("ID", e => Str(e, "id")), ("NAME", e => Str(e, "name")), ("SCOPE", e => Str(e, "scope")),
                ("REGISTRY", e => Str(e, "registry") ?? "(all)"), ("EXPIRES", e => Str(e, "expiresAt") ?? "never"), ("LAST USED", e => Str(e, "lastUsedAt")));
            return 0;
        }));

        var which = new Argument<string>("name-or-id") { Description = "Token name or id" };
        var revoke = new Command("revoke", "Revoke a token") { which };
        revoke.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            await client.DeleteAsync($"api/v1/tokens/{ArcaApiClient.Q(parse.GetValue(which)!)}", ct);
            ctx.Output.Info($"revoked {parse.GetValue(which)}");
            return 0;
        }));
        token.Subcommands.Add(create);
        token.Subcommands.Add(list);
        token.Subcommands.Add(revoke);
        return token;
    }

    public static Command Gc()
    {
        var dryRun = new Option<bool>("--dry-run") { Description = "Report what would be deleted, delete nothing" };
        var untagged = new Option<bool>("--delete-untagged") { Description = "Also delete untagged OCI manifests" };
        var grace = new Option<string?>("--grace") { Description = "Keep unreferenced blobs younger than this (default: the server's, 1h); 0 for none" };
        var cmd = new Command("gc", "Delete blobs no longer referenced by any manifest or file") { dryRun, untagged, grace };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var q = $"api/v1/gc?dryRun={(parse.GetValue(dryRun) ? "true" : "false")}&deleteUntagged={(parse.GetValue(untagged) ? "true" : "false")}"
                + RegistryCommands.Param("grace", parse.GetValue(grace));
            var r = await client.PostAsync(q, null, ct);
            ctx.Output.PrintObject(r, ("Dry run", e => Str(e, "dryRun")), ("Blobs scanned", e => Str(e, "blobsScanned")),
                ("Blobs deleted", e => Str(e, "blobsDeleted")), ("Bytes freed", e => ArtifactCommands.HumanSize(e, "bytesFreed")),
                ("Untagged manifests deleted", e => Str(e, "untaggedManifestsDeleted")));
            return 0;
        }));
        return cmd;
    }
}
