using System.CommandLine;
using System.Text.Json;
using Arca.Client;
using static Arca.Cli.Commands.AccountCommands;

namespace Arca.Cli.Commands;

/// <summary>arca registry|reg list|get|create|update|delete|metadata</summary>
public static class RegistryCommands
{
    private static readonly (string, Func<JsonElement, string?>)[] Columns =
    [
        ("REGISTRY", e => Str(e, "identifier")), ("TYPE", e => Str(e, "packageType")), ("PUBLIC", e => Str(e, "public")),
        ("URL", e => Str(e, "url")), ("DESCRIPTION", e => Str(e, "description")),
    ];

    public static Command Create()
    {
        var reg = new Command("registry", "Manage registries");
        reg.Aliases.Add("reg");

        var type = new Option<string?>("--package-type") { Description = "Filter by package type (DOCKER, GENERIC, NPM...)" };
        var search = new Option<string?>("--search") { Description = "Filter by name substring" };
        var page = new Option<int>("--page") { Description = "Page number (1-based)", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Items per page", DefaultValueFactory = _ => 50 };
        var list = new Command("list", "List registries") { type, search, page, pageSize };
        list.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var q = $"api/v1/registries?page={parse.GetValue(page)}&page_size={parse.GetValue(pageSize)}"
                + Param("package_type", parse.GetValue(type)) + Param("org", ctx.Org) + Param("project", ctx.Project) + Param("search", parse.GetValue(search));
            var result = await client.GetAsync(q, ct);
            ctx.Output.Print(result, result.GetProperty("items"), Columns);
            if (ctx.Output.IsTable) ctx.Output.Info(PageLine(result));
            return 0;
        }));

        var name = new Argument<string>("registry") { Description = "Registry identifier" };
        var get = new Command("get", "Show a registry and the URL its clients use") { name };
        get.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var r = await client.GetAsync($"api/v1/registries/{ArcaApiClient.Q(parse.GetValue(name)!)}", ct);
            ctx.Output.PrintObject(r, RegistryFields());
            return 0;
        }));

        var packageType = new Option<string>("--package-type") { Description = "DOCKER, HELM, GENERIC, MAVEN, NPM, PYTHON, NUGET, GO, RPM, CARGO, CONDA, COMPOSER, DART", Required = true };
        var description = new Option<string?>("--description") { Description = "Description" };
        var isPublic = new Option<bool>("--public") { Description = "Allow anonymous read" };
        var allowOverwrite = new Option<bool>("--allow-overwrite") { Description = "Re-publishing an existing version replaces it instead of failing" };
        var labels = new Option<string?>("--labels") { Description = "Comma-separated labels" };
        var create = new Command("create", "Create a registry") { name, packageType, description, isPublic, allowOverwrite, labels };
        create.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var r = await client.PostAsync("api/v1/registries", new
            {
                identifier = parse.GetValue(name), packageType = parse.GetValue(packageType), description = parse.GetValue(description),
                @public = parse.GetValue(isPublic), allowOverwrite = parse.GetValue(allowOverwrite), org = ctx.Org, project = ctx.Project,
                labels = SplitList(parse.GetValue(labels)),
            }, ct);
            ctx.Output.PrintObject(r, RegistryFields());
            return 0;
        }));

        var setPublic = new Option<bool?>("--public") { Description = "true: anonymous read; false: private" };
        var setOverwrite = new Option<bool?>("--allow-overwrite") { Description = "true/false" };
        var update = new Command("update", "Change a registry's description, visibility, labels or overwrite policy") { name, description, setPublic, setOverwrite, labels };
        update.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var r = await client.PatchAsync($"api/v1/registries/{ArcaApiClient.Q(parse.GetValue(name)!)}", new
            {
                description = parse.GetValue(description), @public = parse.GetValue(setPublic), allowOverwrite = parse.GetValue(setOverwrite),
                labels = parse.GetValue(labels) is null ? null : SplitList(parse.GetValue(labels)), org = ctx.Org, project = ctx.Project,
            }, ct);
            ctx.Output.PrintObject(r, RegistryFields());
            return 0;
        }));

        var delete = new Command("delete", "Delete a registry with all its packages") { name };
        delete.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            await client.DeleteAsync($"api/v1/registries/{ArcaApiClient.Q(parse.GetValue(name)!)}", ct);
            ctx.Output.Info($"deleted registry {parse.GetValue(name)}");
            return 0;
        }));

        reg.Subcommands.Add(list);
        reg.Subcommands.Add(get);
        reg.Subcommands.Add(create);
        reg.Subcommands.Add(update);
        reg.Subcommands.Add(delete);
        reg.Subcommands.Add(MetadataCommands.Create(forArtifact: false));
        reg.Subcommands.Add(MigrateCommand.Create());
        return reg;
    }

    private static (string, Func<JsonElement, string?>)[] RegistryFields() =>
    [
        ("Registry", e => Str(e, "identifier")), ("Package type", e => Str(e, "packageType")), ("URL", e => Str(e, "url")),
        ("Public", e => Str(e, "public")), ("Allow overwrite", e => Str(e, "allowOverwrite")), ("Description", e => Str(e, "description")),
        ("Org", e => Str(e, "org")), ("Project", e => Str(e, "project")),
        ("Labels", e => e.TryGetProperty("labels", out var l) ? string.Join(",", l.EnumerateArray().Select(x => x.GetString())) : null),
        ("Client URLs", e => e.TryGetProperty("clientUrls", out var u) ? string.Join("\n", u.EnumerateObject().Select(p => $"{p.Name}: {p.Value.GetString()}")) : null),
        ("Created", e => Str(e, "createdAt")),
    ];

    internal static string Param(string key, string? value) => string.IsNullOrEmpty(value) ? "" : $"&{key}={Uri.EscapeDataString(value)}";

    internal static string[] SplitList(string? text) =>
        text?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) ?? [];

    internal static string PageLine(JsonElement page) =>
        $"page {page.GetProperty("page")} (size {page.GetProperty("pageSize")}), {page.GetProperty("items").GetArrayLength()} shown of {page.GetProperty("total")}";
}
