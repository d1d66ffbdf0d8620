using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Arca.Migration;
using Arca.Migration.Config;
using Arca.Migration.Engine;
using Spectre.Console;

namespace Arca.Cli.Commands;

/// <summary>arca registry migrate --config FILE (the `hc registry migrate` YAML).</summary>
public static class MigrateCommand
{
    public static Command Create()
    {
        var config = new Option<string>("--config", "-c") { Description = "Migration config (hc registry migrate YAML)", Required = true };
        var concurrency = new Option<int?>("--concurrency") { Description = "Transfers in flight in total (overrides the config)" };
        var overwrite = new Option<bool>("--overwrite") { Description = "Replace what the destination has with different content" };
        var dryRun = new Option<bool>("--dry-run") { Description = "List exactly what would move, with sizes; change nothing" };
        var resume = new Option<bool>("--resume") { Description = "Continue a previous run: skip items it finished" };
        var summary = new Option<bool>("--summary") { Description = "Print the summary table only (no per-item lines)" };
        var report = new Option<string?>("--report") { Description = "Write a JSON report of every item to this file" };
        var cmd = new Command("migrate", "Move artifacts in from another registry (Nexus, Artifactory, Harbor, Docker registries, Arca, npm/PyPI/Maven/Helm/NuGet repositories)")
            { config, concurrency, overwrite, dryRun, resume, summary, report };
        cmd.SetAction(async (parse, ct) =>
        {
            var output = new Output(parse.GetValue(GlobalOptions.Format) ?? "table", parse.GetValue(GlobalOptions.Verbose));
            var path = parse.GetValue(config)!;
            MigrationConfig cfg;
            try { cfg = ConfigLoader.Load(path); }
            catch (ConfigException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }

            var options = new RunOptions
            {
                DryRun = parse.GetValue(dryRun) || cfg.DryRun,
                Overwrite = parse.GetValue(overwrite) || cfg.Overwrite,
                Resume = parse.GetValue(resume),
                Concurrency = parse.GetValue(concurrency) ?? cfg.Concurrency,
                ReportPath = parse.GetValue(report),
                StatePath = cfg.StateFile ?? Path.ChangeExtension(Path.GetFullPath(path), ".state.jsonl"),
            };
            var quiet = parse.GetValue(summary) || !output.IsTable;
            var stopwatch = Stopwatch.StartNew();
            var progress = new MigrationProgressPrinter(cfg.Mappings.Select(m => m.Name).ToList(), stopwatch);
            void OnResult(int mapping, ItemResult r)
            {
                progress.Done(mapping, r);
                if (r.Status == ItemStatus.DryRun) { if (!quiet) Console.Out.WriteLine($"would copy  {r.Item.Display}  ({ArtifactSize(r.Item.Size)})"); return; }
                if (r.Status == ItemStatus.Failed) Console.Error.WriteLine($"failed      {r.Item.Display}: {r.Error}");
                else if (output.Verbose) Console.Error.WriteLine($"{r.Status.ToString().ToLowerInvariant(),-11} {r.Item.Display}");
                if (!quiet && !options.DryRun) progress.PrintIfDue();
            }

            MigrationReport result;
            try { result = await MigrationRunner.RunAsync(cfg, options, OnResult, ct, progress.Listed); }
            catch (ConfigException e) { Console.Error.WriteLine($"error: {e.Message}"); return 2; }
            catch (Exception e) when (e is HttpRequestException or IOException)
            {
                Console.Error.WriteLine($"error: {e.Message}");
                return 1;
            }

            var rows = result.Mappings.Select(m => new
            {
                mapping = m.Name, succeeded = m.Succeeded, skipped = m.Skipped, failed = m.Failed,
                planned = m.Listed, bytes = m.Bytes, plannedBytes = m.PlannedBytes,
            }).ToList();
            var data = JsonSerializer.SerializeToElement(new
            {
                dryRun = options.DryRun, elapsedSeconds = Math.Round(stopwatch.Elapsed.TotalSeconds, 2), mappings = rows,
                failed = result.Failed, report = options.ReportPath,
            });
            output.Print(data, data.GetProperty("mappings"),
                ("MAPPING", e => e.GetProperty("mapping").GetString()),
                (options.DryRun ? "PLANNED" : "SUCCEEDED", e => (options.DryRun ? e.GetProperty("planned") : e.GetProperty("succeeded")).ToString()),
                ("SKIPPED", e => e.GetProperty("skipped").ToString()), ("FAILED", e => e.GetProperty("failed").ToString()),
                ("BYTES", e => ArtifactSize((options.DryRun ? e.GetProperty("plannedBytes") : e.GetProperty("bytes")).GetInt64())));
            foreach (var m in result.Mappings.Where(m => m.ListingError is not null)) Console.Error.WriteLine($"failed      {m.ListingError}");
            if (ct.IsCancellationRequested) { Console.Error.WriteLine("interrupted: finished items are saved; rerun with --resume"); return 130; }
            if (result.Failed > 0) { Console.Error.WriteLine($"{result.Failed} item(s) failed{(options.ReportPath is null ? "" : $"; see {options.ReportPath}")}; rerun with --resume to retry them"); return 1; }
            return 0;
        });
        return cmd;
    }

    internal static string ArtifactSize(long? n)
    {
        if (n is null) return "size unknown";
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double size = n.Value;
        var u = 0;
        while (size >= 1024 && u < units.Length - 1) { size /= 1024; u++; }
        return u == 0 ? $"{n} B" : $"{size:0.#} {units[u]}";
    }

    /// <summary>Live progress on stderr: per mapping, items and bytes done of what has been listed so far, rate and ETA.</summary>
    private sealed class MigrationProgressPrinter(IReadOnlyList<string> names, Stopwatch clock)
    {
        private readonly long[] _listed = new long[names.Count], _listedBytes = new long[names.Count], _done = new long[names.Count], _doneBytes = new long[names.Count], _moved = new long[names.Count];
        private long _lastPrint;

        public void Listed(int mapping, MigrationItem item)
        {
            Interlocked.Increment(ref _listed[mapping]);
            Interlocked.Add(ref _listedBytes[mapping], item.Size ?? 0);
        }

        public void Done(int mapping, ItemResult r)
        {
            Interlocked.Increment(ref _done[mapping]);
            Interlocked.Add(ref _doneBytes[mapping], r.Item.Size ?? r.Bytes);
            Interlocked.Add(ref _moved[mapping], r.Bytes);
        }

        public void PrintIfDue()
        {
            var now = clock.ElapsedMilliseconds;
            var last = Interlocked.Read(ref _lastPrint);
            if (now - last < 2000 || Interlocked.CompareExchange(ref _lastPrint, now, last) != last) return;
            var seconds = Math.Max(clock.Elapsed.TotalSeconds, 0.001);
            for (var i = 0; i < names.Count; i++)
            {
                var moved = Interlocked.Read(ref _moved[i]);
                var rate = moved / seconds;
                var remainingBytes = Math.Max(0, Interlocked.Read(ref _listedBytes[i]) - Interlocked.Read(ref _doneBytes[i]));
                var eta = rate > 0 && remainingBytes > 0 ? TimeSpan.FromSeconds(remainingBytes / rate).ToString(@"hh\:mm\:ss") : "-";
                Console.Error.WriteLine($"progress  {names[i]}: {Interlocked.Read(ref _done[i])}/{Interlocked.Read(ref _listed[i])} items (listed so far), {ArtifactSize(moved)} moved, {ArtifactSize((long)rate)}/s, ETA {eta}");
            }
        }
    }
}
