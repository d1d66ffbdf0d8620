using System.CommandLine;
using System.Text.Json;
using Arca.Cli.Transfer;
using Arca.Client;
using static Arca.Cli.Commands.AccountCommands;
using static Arca.Cli.Commands.RegistryCommands;

namespace Arca.Cli.Commands;

/// <summary>arca artifact|art list|get|push|pull|metadata|delete|copy</summary>
public static class ArtifactCommands
{
    public static Command Create()
    {
        var art = new Command("artifact", "Manage packages, versions and files; push and pull artifacts");
        art.Aliases.Add("art");
        art.Subcommands.Add(List());
        art.Subcommands.Add(Get());
        art.Subcommands.Add(Push());
        art.Subcommands.Add(Pull());
        art.Subcommands.Add(MetadataCommands.Create(forArtifact: true));
        art.Subcommands.Add(Delete());
        art.Subcommands.Add(Copy());
        return art;
    }

    /// <summary>Hierarchical listing: all packages; packages of a registry; versions of a package; files of a version.</summary>
    private static Command List()
    {
        var registry = new Option<string?>("--registry") { Description = "List the packages of this registry" };
        var package = new Option<string?>("--package") { Description = "List the versions of this package (needs --registry)" };
        var version = new Option<string?>("--version") { Description = "List the files of this version (needs --registry and --package)" };
        var search = new Option<string?>("--search") { Description = "Filter packages by name substring" };
        var page = new Option<int>("--page") { Description = "Page number (1-based)", DefaultValueFactory = _ => 1 };
        var pageSize = new Option<int>("--page-size") { Description = "Items per page", DefaultValueFactory = _ => 50 };
        var cmd = new Command("list", "List packages (all, or of --registry), versions (--package) or files (--version)") { registry, package, version, search, page, pageSize };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            var reg = parse.GetValue(registry);
            var pkg = parse.GetValue(package);
            var ver = parse.GetValue(version);
            var paging = $"page={parse.GetValue(page)}&page_size={parse.GetValue(pageSize)}";
            using var client = ctx.CreateClient();
            JsonElement result;
            (string, Func<JsonElement, string?>)[] columns;
            if (reg is null)
            {
                if (pkg is not null || ver is not null) throw new CliUsageException("--package and --version need --registry");
                result = await client.GetAsync($"api/v1/packages?{paging}{Param("search", parse.GetValue(search))}", ct);
                columns = PackageColumns;
            }
            else if (pkg is null)
            {
                if (ver is not null) throw new CliUsageException("--version needs --package");
                result = await client.GetAsync($"api/v1/registries/{ArcaApiClient.Q(reg)}/packages?{paging}{Param("search", parse.GetValue(search))}", ct);
                columns = PackageColumns;
            }
            else if (ver is null)
            {
                result = await client.GetAsync($"api/v1/registries/{ArcaApiClient.Q(reg)}/versions?package={ArcaApiClient.Q(pkg)}&{paging}", ct);
                columns = [("PACKAGE", e => Str(e, "package")), ("VERSION", e => Str(e, "version")), ("FILES", e => Str(e, "fileCount")),
                    ("SIZE", e => HumanSize(e, "size")), ("UPDATED", e => Str(e, "updatedAt"))];
            }
            else
            {
                result = await client.GetAsync($"api/v1/registries/{ArcaApiClient.Q(reg)}/files?package={ArcaApiClient.Q(pkg)}&version={ArcaApiClient.Q(ver)}&{paging}", ct);
                columns = [("FILE", e => Str(e, "path")), ("SIZE", e => HumanSize(e, "size")), ("SHA256", e => Str(e, "sha256")), ("CREATED", e => Str(e, "createdAt"))];
            }
            ctx.Output.Print(result, result.GetProperty("items"), columns);
            if (ctx.Output.IsTable) ctx.Output.Info(PageLine(result));
            return 0;
        }));
        return cmd;
    }

    private static readonly (string, Func<JsonElement, string?>)[] PackageColumns =
    [
        ("REGISTRY", e => Str(e, "registry")), ("PACKAGE", e => Str(e, "name")), ("TYPE", e => Str(e, "packageType")),
        ("VERSIONS", e => Str(e, "versionCount")), ("SIZE", e => HumanSize(e, "size")), ("UPDATED", e => Str(e, "updatedAt")),
    ];

    private static Command Get()
    {
        var registry = new Option<string>("--registry") { Description = "Registry", Required = true };
        var version = new Option<string?>("--version") { Description = "Show this version with its files" };
        var package = new Argument<string>("package") { Description = "Package name" };
        var cmd = new Command("get", "Show a package (or one version with --version), with its metadata") { package, registry, version };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var reg = ArcaApiClient.Q(parse.GetValue(registry)!);
            var pkg = ArcaApiClient.Q(parse.GetValue(package)!);
            if (parse.GetValue(version) is { } v)
            {
                var r = await client.GetAsync($"api/v1/registries/{reg}/version?package={pkg}&version={ArcaApiClient.Q(v)}", ct);
                ctx.Output.PrintObject(r, ("Package", e => Str(e.GetProperty("version"), "package")), ("Version", e => Str(e.GetProperty("version"), "version")),
                    ("Size", e => HumanSize(e.GetProperty("version"), "size")), ("Created", e => Str(e.GetProperty("version"), "createdAt")),
                    ("Files", e => string.Join("\n", e.GetProperty("files").EnumerateArray().Select(f => $"{Str(f, "path")} ({Str(f, "size")} bytes)"))),
                    ("Metadata", e => string.Join(",", e.GetProperty("metadata").EnumerateObject().Select(p => $"{p.Name}:{p.Value.GetString()}"))));
            }
            else
            {
                var r = await client.GetAsync($"api/v1/registries/{reg}/package?name={pkg}", ct);
                ctx.Output.PrintObject(r, ("Registry", e => Str(e.GetProperty("package"), "registry")), ("Package", e => Str(e.GetProperty("package"), "name")),
                    ("Type", e => Str(e.GetProperty("package"), "packageType")), ("Versions", e => Str(e.GetProperty("package"), "versionCount")),
                    ("Size", e => HumanSize(e.GetProperty("package"), "size")), ("Updated", e => Str(e.GetProperty("package"), "updatedAt")),
                    ("Metadata", e => string.Join(",", e.GetProperty("metadata").EnumerateObject().Select(p => $"{p.Name}:{p.Value.GetString()}"))));
            }
            return 0;
        }));
        return cmd;
    }

    private static Command Push()
    {
        var cmd = new Command("push", "Upload an artifact with the format's own protocol");
        foreach (var transfer in ArtifactTransfers.All)
        {
            var registry = new Argument<string>("registry") { Description = "Destination registry" };
            var path = new Argument<string>("file") { Description = "File (or directory, where the format allows) to upload" };
            var sub = new Command(transfer.Type, transfer.Description) { registry, path };
            foreach (var o in transfer.PushOptions) sub.Options.Add(o);
            var t = transfer;
            sub.SetAction(Run.Action(async (parse, ctx, ct) =>
            {
                using var client = ctx.CreateClient();
                return await t.PushAsync(new TransferContext(client.Http, parse.GetValue(registry)!, ctx.Output), parse.GetValue(path)!, parse, ct);
            }));
            cmd.Subcommands.Add(sub);
        }
        return cmd;
    }

    private static Command Pull()
    {
        var cmd = new Command("pull", "Download an artifact with the format's own protocol");
        foreach (var transfer in ArtifactTransfers.All)
        {
            var registry = new Argument<string>("registry") { Description = "Source registry" };
            var reference = new Argument<string>("reference") { Description = "What to download, e.g. <package>/<version>/<file>" };
            var destination = new Argument<string>("destination") { Description = "Destination file or directory" };
            var sub = new Command(transfer.Type, transfer.Description) { registry, reference, destination };
            foreach (var o in transfer.PullOptions) sub.Options.Add(o);
            var t = transfer;
            sub.SetAction(Run.Action(async (parse, ctx, ct) =>
            {
                using var client = ctx.CreateClient();
                return await t.PullAsync(new TransferContext(client.Http, parse.GetValue(registry)!, ctx.Output), parse.GetValue(reference)!, parse.GetValue(destination)!, parse, ct);
            }));
            cmd.Subcommands.Add(sub);
        }
        return cmd;
    }

    private static Command Delete()
    {
        var registry = new Option<string>("--registry") { Description = "Registry", Required = true };
        var version = new Option<string?>("--version") { Description = "Delete only this version" };
        var package = new Argument<string>("package") { Description = "Package name" };
        var cmd = new Command("delete", "Delete a package, or one version of it") { package, registry, version };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var reg = ArcaApiClient.Q(parse.GetValue(registry)!);
            var pkg = parse.GetValue(package)!;
            if (parse.GetValue(version) is { } v)
            {
                await client.DeleteAsync($"api/v1/registries/{reg}/version?package={ArcaApiClient.Q(pkg)}&version={ArcaApiClient.Q(v)}", ct);
                ctx.Output.Info($"deleted {pkg} {v}");
            }
            else
            {
                await client.DeleteAsync($"api/v1/registries/{reg}/package?name={ArcaApiClient.Q(pkg)}", ct);
                ctx.Output.Info($"deleted {pkg}");
            }
            return 0;
        }));
        return cmd;
    }

    private static Command Copy()
    {
        var source = new Argument<string>("source") { Description = "<src-registry>/<package>/<version> (the package may contain '/'; the version is the last segment)" };
        var dest = new Argument<string>("destination") { Description = "Destination registry (same package type)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace the version if the destination has it" };
        var cmd = new Command("copy", "Copy a version to another registry (no blob bytes are copied)") { source, dest, overwrite };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            var src = parse.GetValue(source)!;
            var first = src.IndexOf('/');
            var last = src.LastIndexOf('/');
            if (first <= 0 || last <= first || last == src.Length - 1)
                throw new CliUsageException($"expected <src-registry>/<package>/<version>, got '{src}'");
            using var client = ctx.CreateClient();
            var r = await client.PostAsync($"api/v1/registries/{ArcaApiClient.Q(src[..first])}/copy", new
            {
                package = src[(first + 1)..last], version = src[(last + 1)..], destination = parse.GetValue(dest), overwrite = parse.GetValue(overwrite),
            }, ct);
            if (ctx.Output.IsTable) ctx.Output.Info($"copied {src} to {parse.GetValue(dest)} ({Str(r, "outcome")})");
            else ctx.Output.Print(r);
            return 0;
        }));
        return cmd;
    }

    internal static string? HumanSize(JsonElement e, string name)
    {
        if (!e.TryGetProperty(name, out var v) || !v.TryGetInt64(out var n)) return null;
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double size = n;
        var u = 0;
        while (size >= 1024 && u < units.Length - 1) { size /= 1024; u++; }
        return u == 0 ? $"{n} B" : $"{size:0.#} {units[u]}";
    }
}
