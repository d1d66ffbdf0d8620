using System.CommandLine;
using System.Text.Json;
using Arca.Client;

namespace Arca.Cli.Commands;

/// <summary>
/// `arca replication rule create|list|get|update|delete|run`, `arca replication executions`,
/// `arca replication execution get|stop` (PRODUCT.md "Endpoints and replication").
/// </summary>
public static class ReplicationCommands
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static Command Create()
    {
        var cmd = new Command("replication", "Harbor-style replication rules between Arca and remote OCI registries (endpoints)");
        var rule = new Command("rule", "Manage replication rules");
        rule.Subcommands.Add(CreateCommand());
        rule.Subcommands.Add(ListCommand());
        rule.Subcommands.Add(GetCommand());
        rule.Subcommands.Add(UpdateCommand());
        rule.Subcommands.Add(DeleteCommand());
        rule.Subcommands.Add(RunCommand());
        cmd.Subcommands.Add(rule);
        cmd.Subcommands.Add(ExecutionsCommand());
        var execution = new Command("execution", "Inspect or stop one execution");
        execution.Subcommands.Add(ExecutionGetCommand());
        execution.Subcommands.Add(ExecutionStopCommand());
        cmd.Subcommands.Add(execution);
        return cmd;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "Rule name" };
    private static Argument<long> IdArgument() => new("id") { Description = "Execution id" };

    /// <summary>The options shared by create and update (all optional on update).</summary>
    private sealed class RuleOptions(bool create)
    {
        public readonly Option<string?> Endpoint = new("--endpoint") { Description = "Endpoint (remote registry) to pull from or push to", Required = create };
        public readonly Option<string?> Direction = new("--direction") { Description = "pull (endpoint → Arca) or push (Arca → endpoint)", Required = create };
        public readonly Option<string?> SourceFilter = new("--source-filter") { Description = "Repository glob: * within a path segment, ** across segments (push: matches <registry>/<repository> on Arca)", Required = create };
        public readonly Option<string?> TagFilter = new("--tag-filter") { Description = "Tag glob (default: all tags)" };
        public readonly Option<string[]> Labels = new("--label") { Description = "Push: only from Arca registries with this label (repeatable)", AllowMultipleArgumentsPerToken = false };
        public readonly Option<string?> DestinationRegistry = new("--destination-registry") { Description = "Pull: the Arca DOCKER or HELM registry that receives the images" };
        public readonly Option<string?> DestinationNamespace = new("--dest-namespace") { Description = "Destination namespace (repository prefix)" };
        public readonly Option<int?> ReplaceCount = new("--dest-namespace-replace-count") { Description = "Harbor flattening: -1 legacy (namespace/last segment), 0 prefix all, N replace the first N segments" };
        public readonly Option<string?> Cron = new("--cron") { Description = "Six-field cron with seconds, e.g. \"0 */5 * * * *\" (UTC); without it the rule runs manually" };

        public void AddTo(Command cmd)
        {
            foreach (var o in new Option[] { Endpoint, Direction, SourceFilter, TagFilter, Labels, DestinationRegistry, DestinationNamespace, ReplaceCount, Cron })
                cmd.Options.Add(o);
        }
    }

    private static Command CreateCommand()
    {
        var name = NameArgument();
        var options = new RuleOptions(create: true);
        var overrideOption = new Option<bool>("--override") { Description = "Replace destination tags that differ (otherwise such a task fails)" };
        var disabled = new Option<bool>("--disabled") { Description = "Create the rule disabled (no scheduled runs)" };
        var cmd = new Command("create", "Create a replication rule") { name, overrideOption, disabled };
        options.AddTo(cmd);
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var labels = parse.GetValue(options.Labels);
            var created = await client.PostAsync("api/v1/replication/rules", new
            {
                name = parse.GetValue(name), endpoint = parse.GetValue(options.Endpoint), direction = parse.GetValue(options.Direction),
                sourceFilter = parse.GetValue(options.SourceFilter), tagFilter = parse.GetValue(options.TagFilter),
                labels = labels is { Length: > 0 } ? labels : null,
                destinationRegistry = parse.GetValue(options.DestinationRegistry), destinationNamespace = parse.GetValue(options.DestinationNamespace),
                destinationNamespaceReplaceCount = parse.GetValue(options.ReplaceCount), @override = parse.GetValue(overrideOption),
                cron = parse.GetValue(options.Cron), enabled = !parse.GetValue(disabled),
            }, ct);
            PrintRule(ctx.Output, created);
            return 0;
        }));
        return cmd;
    }

    private static Command UpdateCommand()
    {
        var name = NameArgument();
        var options = new RuleOptions(create: false);
        var overrideOption = new Option<bool>("--override") { Description = "Replace destination tags that differ" };
        var noOverride = new Option<bool>("--no-override") { Description = "Fail tasks whose destination tag differs" };
        var manual = new Option<bool>("--manual") { Description = "Remove the cron schedule (manual runs only)" };
        var enable = new Option<bool>("--enable") { Description = "Enable the rule" };
        var disable = new Option<bool>("--disable") { Description = "Disable the rule" };
        var cmd = new Command("update", "Change a replication rule (only the given options change)") { name, overrideOption, noOverride, manual, enable, disable };
        options.AddTo(cmd);
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            if (parse.GetValue(overrideOption) && parse.GetValue(noOverride)) throw new CliUsageException("--override and --no-override exclude each other");
            if (parse.GetValue(enable) && parse.GetValue(disable)) throw new CliUsageException("--enable and --disable exclude each other");
            if (parse.GetValue(manual) && parse.GetValue(options.Cron) is not null) throw new CliUsageException("--manual and --cron exclude each other");
            using var client = ctx.CreateClient();
            var labels = parse.GetValue(options.Labels);
            var updated = await client.PatchAsync($"api/v1/replication/rules/{ArcaApiClient.Q(parse.GetValue(name)!)}", new
            {
                endpoint = parse.GetValue(options.Endpoint), direction = parse.GetValue(options.Direction),
                sourceFilter = parse.GetValue(options.SourceFilter), tagFilter = parse.GetValue(options.TagFilter),
                labels = labels is { Length: > 0 } ? labels : null,
                destinationRegistry = parse.GetValue(options.DestinationRegistry), destinationNamespace = parse.GetValue(options.DestinationNamespace),
                destinationNamespaceReplaceCount = parse.GetValue(options.ReplaceCount),
                @override = parse.GetValue(overrideOption) ? true : parse.GetValue(noOverride) ? false : (bool?)null,
                cron = parse.GetValue(manual) ? "" : parse.GetValue(options.Cron),
                enabled = parse.GetValue(enable) ? true : parse.GetValue(disable) ? false : (bool?)null,
            }, ct);
            PrintRule(ctx.Output, updated);
            return 0;
        }));
        return cmd;
    }

    private static Command ListCommand()
    {
        var cmd = new Command("list", "List replication rules");
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var result = await client.GetAsync("api/v1/replication/rules", ct);
            ctx.Output.Print(result, result.GetProperty("items"),
                ("NAME", r => Str(r, "name")), ("ENDPOINT", r => Str(r, "endpoint")), ("DIRECTION", r => Str(r, "direction")),
                ("SOURCE", r => Str(r, "sourceFilter")), ("TAGS", r => Str(r, "tagFilter") ?? "*"),
                ("DESTINATION", Destination), ("TRIGGER", r => Str(r, "cron") ?? "manual"),
                ("ENABLED", r => Bool(r, "enabled") ? "yes" : "no"));
            return 0;
        }));
        return cmd;
    }

    private static Command GetCommand()
    {
        var name = NameArgument();
        var cmd = new Command("get", "Show a replication rule") { name };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            PrintRule(ctx.Output, await client.GetAsync($"api/v1/replication/rules/{ArcaApiClient.Q(parse.GetValue(name)!)}", ct));
            return 0;
        }));
        return cmd;
    }

    private static Command DeleteCommand()
    {
        var name = NameArgument();
        var cmd = new Command("delete", "Delete a replication rule (its execution history stays)") { name };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            await client.DeleteAsync($"api/v1/replication/rules/{ArcaApiClient.Q(parse.GetValue(name)!)}", ct);
            ctx.Output.Info($"replication rule '{parse.GetValue(name)}' deleted");
            return 0;
        }));
        return cmd;
    }

    private static Command RunCommand()
    {
        var name = NameArgument();
        var noWait = new Option<bool>("--no-wait") { Description = "Print the started execution and return at once" };
        var cmd = new Command("run", "Run a rule now; waits and prints the outcome (exit 1 unless it succeeded)") { name, noWait };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var execution = await client.PostAsync($"api/v1/replication/rules/{ArcaApiClient.Q(parse.GetValue(name)!)}/run", null, ct);
            if (parse.GetValue(noWait))
            {
                PrintExecution(ctx.Output, execution, withTasks: false);
                return 0;
            }
            var id = execution.GetProperty("id").GetInt64();
            ctx.Output.Info($"execution {id} started; waiting for it to finish");
            while (Str(execution, "status") == "running")
            {
                await Task.Delay(PollInterval, ct);
                execution = await client.GetAsync($"api/v1/replication/executions/{id}", ct);
            }
            execution = await client.GetAsync($"api/v1/replication/executions/{id}?tasks=true", ct);
            PrintExecution(ctx.Output, execution, withTasks: true);
            return Str(execution, "status") == "succeeded" ? 0 : 1;
        }));
        return cmd;
    }

    private static Command ExecutionsCommand()
    {
        var rule = new Option<string?>("--rule") { Description = "Only executions of this rule" };
        var cmd = new Command("executions", "List replication executions, newest first") { rule };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var query = parse.GetValue(rule) is { } r ? $"?rule={Uri.EscapeDataString(r)}" : "";
            var result = await client.GetAsync($"api/v1/replication/executions{query}", ct);
            ctx.Output.Print(result, result.GetProperty("items"), ExecutionColumns);
            return 0;
        }));
        return cmd;
    }

    private static Command ExecutionGetCommand()
    {
        var id = IdArgument();
        var tasks = new Option<bool>("--tasks") { Description = "Also list the execution's tasks" };
        var cmd = new Command("get", "Show an execution") { id, tasks };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var withTasks = parse.GetValue(tasks);
            var execution = await client.GetAsync($"api/v1/replication/executions/{parse.GetValue(id)}{(withTasks ? "?tasks=true" : "")}", ct);
            PrintExecution(ctx.Output, execution, withTasks);
            return 0;
        }));
        return cmd;
    }

    private static Command ExecutionStopCommand()
    {
        var id = IdArgument();
        var cmd = new Command("stop", "Stop a running execution (cancels its in-flight tasks)") { id };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            using var client = ctx.CreateClient();
            var execution = await client.PostAsync($"api/v1/replication/executions/{parse.GetValue(id)}/stop", null, ct);
            PrintExecution(ctx.Output, execution, withTasks: false);
            ctx.Output.Info($"execution {parse.GetValue(id)} is stopping");
            return 0;
        }));
        return cmd;
    }

    private static readonly (string, Func<JsonElement, string?>)[] ExecutionColumns =
    [
        ("ID", e => Num(e, "id")), ("RULE", e => Str(e, "rule")), ("TRIGGER", e => Str(e, "trigger")), ("STATUS", e => Str(e, "status")),
        ("STARTED", e => Str(e, "startedAt")), ("ENDED", e => Str(e, "endedAt")), ("TOTAL", e => Num(e, "total")),
        ("SUCCEEDED", e => Num(e, "succeeded")), ("FAILED", e => Num(e, "failed")), ("SKIPPED", e => Num(e, "skipped")),
        ("BYTES", e => Num(e, "bytes")),
    ];

    private static void PrintRule(Output output, JsonElement r) =>
        output.PrintObject(r,
            ("Name", x => Str(x, "name")), ("Endpoint", x => Str(x, "endpoint")), ("Direction", x => Str(x, "direction")),
            ("Source filter", x => Str(x, "sourceFilter")), ("Tag filter", x => Str(x, "tagFilter") ?? "*"),
            ("Labels", x => x.TryGetProperty("labels", out var l) && l.ValueKind == JsonValueKind.Array ? string.Join(", ", l.EnumerateArray().Select(v => v.GetString())) : ""),
            ("Destination", Destination), ("Namespace replace count", x => Num(x, "destinationNamespaceReplaceCount")),
            ("Override", x => Bool(x, "override") ? "yes" : "no"), ("Trigger", x => Str(x, "cron") is { } c ? $"cron {c}" : "manual"),
            ("Next run", x => Str(x, "nextRun")), ("Enabled", x => Bool(x, "enabled") ? "yes" : "no"),
            ("Created", x => Str(x, "createdAt")), ("Updated", x => Str(x, "updatedAt")));

    private static void PrintExecution(Output output, JsonElement e, bool withTasks)
    {
        if (withTasks && output.IsTable && e.TryGetProperty("tasks", out var tasks) && tasks.ValueKind == JsonValueKind.Array)
        {
            // Table mode: the summary, then one row per task. json/yaml print the whole document once.
            output.PrintObject(e, [.. ExecutionColumns.Select(c => (c.Item1.ToLowerInvariant(), c.Item2)), ("error", x => Str(x, "error"))]);
            output.Print(e, tasks,
                ("TASK", t => Num(t, "id")), ("SOURCE", t => Str(t, "source")), ("DESTINATION", t => Str(t, "destination")),
                ("STATUS", t => Str(t, "status")), ("BYTES", t => Num(t, "bytes")), ("DIGEST", t => Str(t, "digest")), ("ERROR", t => Str(t, "error")));
            return;
        }
        output.PrintObject(e, [.. ExecutionColumns.Select(c => (c.Item1.ToLowerInvariant(), c.Item2)), ("error", x => Str(x, "error"))]);
    }

    private static string? Destination(JsonElement r)
    {
        var ns = Str(r, "destinationNamespace");
        if (Str(r, "direction") == "pull") return Str(r, "destinationRegistry") + (ns is null ? "" : $" (namespace {ns})");
        return ns is null ? "(same names)" : $"namespace {ns}";
    }

    private static string? Str(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static string? Num(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetRawText() : null;

    private static bool Bool(JsonElement e, string name) => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.True;
}
