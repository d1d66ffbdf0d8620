using System.Text.Json;
using Spectre.Console;
using YamlDotNet.Serialization;

namespace Arca.Cli;

/// <summary>
/// Everything the CLI prints. Data goes to stdout as a table, JSON or YAML (--format); JSON/YAML print the API's
/// own field names so scripts stay stable. Messages and progress go to stderr so they never mix with data.
/// </summary>
public sealed class Output(string format, bool verbose)
{
    public string Format { get; } = format;
    public bool Verbose { get; } = verbose;
    public bool IsTable => Format == "table";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };
    private readonly IAnsiConsole _err = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });

    /// <summary>Prints <paramref name="data"/>; in table mode, <paramref name="rows"/> selects what to show.</summary>
    public void Print(JsonElement data, params (string Header, Func<JsonElement, string?> Cell)[] columns) =>
        Print(data, data, columns);

    /// <summary>Prints <paramref name="data"/> as JSON/YAML, or the array <paramref name="rows"/> as a table.</summary>
    public void Print(JsonElement data, JsonElement rows, params (string Header, Func<JsonElement, string?> Cell)[] columns)
    {
        switch (Format)
        {
            case "json":
                Console.Out.WriteLine(JsonSerializer.Serialize(data, Indented));
                return;
            case "yaml":
                Console.Out.Write(ToYaml(data));
                return;
        }
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var (header, _) in columns) table.AddColumn(new TableColumn(Markup.Escape(header)));
        var items = rows.ValueKind == JsonValueKind.Array ? rows.EnumerateArray().ToList() : [rows];
        foreach (var item in items)
            table.AddRow(columns.Select(c => Markup.Escape(c.Cell(item) ?? "")).ToArray());
        AnsiConsole.Write(table);
    }

    /// <summary>Key/value view of one object (table mode), or the object as JSON/YAML.</summary>
    public void PrintObject(JsonElement data, params (string Key, Func<JsonElement, string?> Value)[] fields)
    {
        if (!IsTable) { Print(data); return; }
        var table = new Table().Border(TableBorder.Rounded).HideHeaders();
        table.AddColumn("key");
        table.AddColumn("value");
        foreach (var (key, value) in fields)
            table.AddRow(Markup.Escape(key), Markup.Escape(value(data) ?? ""));
        AnsiConsole.Write(table);
    }

    public void Info(string message) => Console.Error.WriteLine(message);

    public void Debug(string message)
    {
        if (Verbose) Console.Error.WriteLine(message);
    }

    /// <summary>Runs transfers with progress bars on stderr (only when it is a terminal and the format is table).</summary>
    public async Task<T> ProgressAsync<T>(Func<ProgressReporter, Task<T>> work)
    {
        if (!IsTable || Console.IsErrorRedirected)
            return await work(new ProgressReporter(null));
        T result = default!;
        await _err.Progress()
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new TransferSpeedColumn(), new RemainingTimeColumn())
            .StartAsync(async ctx => result = await work(new ProgressReporter(ctx)));
        return result;
    }

    public static string ToYaml(JsonElement data) =>
        new SerializerBuilder().Build().Serialize(ToPlain(data));

    private static object? ToPlain(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Object => e.EnumerateObject().ToDictionary(p => p.Name, p => ToPlain(p.Value)),
        JsonValueKind.Array => e.EnumerateArray().Select(ToPlain).ToList(),
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number => e.TryGetInt64(out var l) ? l : e.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };
}

/// <summary>Creates progress tasks; a no-op when progress is not shown.</summary>
public sealed class ProgressReporter(ProgressContext? ctx)
{
    public IProgress<long> Start(string description, long total)
    {
        if (ctx is null) return new Progress<long>(_ => { });
        var task = ctx.AddTask(Markup.Escape(description), maxValue: Math.Max(total, 1));
        return new SyncProgress(v => task.Value = v);
    }

    private sealed class SyncProgress(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}

/// <summary>Streams a file as a request body and reports bytes sent; never buffers the file.</summary>
public sealed class ProgressStreamContent(Stream source, IProgress<long> progress) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
    {
        var buffer = new byte[128 * 1024];
        long sent = 0;
        int read;
        while ((read = await source.ReadAsync(buffer)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read));
            sent += read;
            progress.Report(sent);
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        if (source.CanSeek) { length = source.Length - source.Position; return true; }
        length = 0;
        return false;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing) source.Dispose();
        base.Dispose(disposing);
    }
}
