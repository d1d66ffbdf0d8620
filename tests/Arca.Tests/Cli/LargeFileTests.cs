using System.Net;
using System.Security.Cryptography;
using Arca.Tests.Infrastructure;
using Xunit.Abstractions;

namespace Arca.Tests.Cli;

/// <summary>Issue 2 acceptance with the real `arca` executable as server and as CLI, on a 1 GiB file.</summary>
public sealed class LargeFileTests(ITestOutputHelper log)
{
    private const long GiB = 1L << 30;

    [Fact]
    public async Task One_GiB_push_and_pull_through_the_cli_keeps_server_rss_under_200_MiB_and_stores_bytes_once()
    {
        await using var server = new ServerProcess();
        await server.StartAsync();
        var work = TempDir.Create("large");
        var config = TempDir.Create("cfg");
        var env = new Dictionary<string, string?> { ["ARCA_CONFIG_DIR"] = config };
        Task<ProcResult> Arca(params string[] args) => ArcaCli.RunAsync(null, null, args, work, env, TimeSpan.FromMinutes(10));

        (await Arca("login", "--server", server.BaseUrl, "--token", server.AdminToken)).AssertOk("login");
        (await Arca("reg", "create", "files", "--package-type", "GENERIC")).AssertOk("reg create files");
        (await Arca("reg", "create", "files2", "--package-type", "GENERIC")).AssertOk("reg create files2");

        var big = Path.Combine(work, "big.bin");
        var expected = await WriteRandomFileAsync(big, GiB);

        long peak = 0;
        using var stop = new CancellationTokenSource();
        var sampler = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                peak = Math.Max(peak, server.ReadRssBytes());
                try { await Task.Delay(50, stop.Token); } catch (OperationCanceledException) { }
            }
        });

        (await Arca("art", "push", "generic", "files", big, "--package", "p", "--version", "1.0")).AssertOk("push");
        var outFile = Path.Combine(work, "out.bin");
        (await Arca("art", "pull", "generic", "files", "p/1.0/big.bin", outFile)).AssertOk("pull");
        (await Arca("art", "push", "generic", "files2", big, "--package", "p", "--version", "1.0")).AssertOk("push to second registry");
        stop.Cancel();
        await sampler;

        Assert.Equal(expected, await Sha256FileAsync(outFile));
        log.WriteLine($"server peak RSS during 1 GiB push+pull+push: {peak >> 20} MiB");
        Assert.True(peak > 0, "RSS was sampled");
        Assert.True(peak < 200L << 20, $"server peak RSS {peak >> 20} MiB must stay under 200 MiB");

        // Deduplication: one blob file of 1 GiB on disk for the two registries.
        var blobs = Directory.GetFiles(Path.Combine(server.DataDir, "blobs"), "*", SearchOption.AllDirectories)
            .Select(f => new FileInfo(f)).Where(f => f.Length == GiB).ToList();
        Assert.Single(blobs);
        Assert.Equal(expected, blobs[0].Name);
        TempDir.TryDelete(work);
    }

    [Fact]
    public async Task Kill_9_during_a_1_GiB_upload_leaves_no_partial_file_and_keeps_acknowledged_data()
    {
        var server = new ServerProcess();
        await server.StartAsync();
        using var admin = server.CreateClient();
        (await admin.PostAsync("api/v1/registries", Json("""{"identifier":"files","packageType":"GENERIC"}"""))).EnsureSuccessStatusCode();
        var keep = RandomNumberGenerator.GetBytes(3 << 20);
        Assert.Equal(HttpStatusCode.Created, (await admin.PutAsync("pkg/files/generic/p/1.0/keep.bin", new ByteArrayContent(keep))).StatusCode);

        // Stream 1 GiB slowly enough to be killed in the middle.
        var sent = new TaskCompletionSource();
        using var upload = new HttpClient { BaseAddress = new Uri(server.BaseUrl + "/"), Timeout = TimeSpan.FromMinutes(5) };
        upload.DefaultRequestHeaders.Authorization = new("Bearer", server.AdminToken);
        var content = new StreamContent(new SlowRandomStream(GiB, 200L << 20, sent));
        content.Headers.ContentLength = GiB;
        var putTask = upload.PutAsync("pkg/files/generic/p/1.0/big.bin", content);
        await sent.Task.WaitAsync(TimeSpan.FromMinutes(2));
        var partials = Directory.GetFiles(Path.Combine(server.DataDir, "tmp"), "*", SearchOption.AllDirectories);
        Assert.NotEmpty(partials); // the upload really was in flight
        server.Kill9();
        await Assert.ThrowsAnyAsync<Exception>(() => putTask);

        await server.StartAsync(); // same data dir, same port
        using var admin2 = server.CreateClient();
        Assert.Equal(HttpStatusCode.NotFound, (await admin2.GetAsync("pkg/files/generic/p/1.0/big.bin")).StatusCode);
        var files = await admin2.GetStringAsync("api/v1/registries/files/files?package=p&version=1.0");
        Assert.DoesNotContain("big.bin", files);
        Assert.Contains("keep.bin", files);
        Assert.Equal(keep, await admin2.GetByteArrayAsync("pkg/files/generic/p/1.0/keep.bin"));
        Assert.Empty(Directory.GetFiles(Path.Combine(server.DataDir, "tmp"), "*", SearchOption.AllDirectories));
        var blobBytes = Directory.GetFiles(Path.Combine(server.DataDir, "blobs"), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        Assert.Equal(keep.Length, blobBytes); // nothing of the killed upload became a blob
        await server.DisposeAsync();
        TempDir.TryDelete(server.DataDir);
    }

    private static StringContent Json(string s) => new(s, System.Text.Encoding.UTF8, "application/json");

    private static async Task<string> WriteRandomFileAsync(string path, long size)
    {
        var block = RandomNumberGenerator.GetBytes(1 << 20);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        await using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        for (long written = 0, i = 0; written < size; written += block.Length, i++)
        {
            BitConverter.TryWriteBytes(block.AsSpan(0, 8), i); // every MiB differs
            hash.AppendData(block);
            await f.WriteAsync(block);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static async Task<string> Sha256FileAsync(string path)
    {
        await using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(await SHA256.HashDataAsync(f));
    }

    /// <summary>Produces pseudo-random bytes; after <paramref name="signalAfter"/> bytes it signals and slows down.</summary>
    private sealed class SlowRandomStream(long length, long signalAfter, TaskCompletionSource signal) : Stream
    {
        private long _position;
        private readonly Random _random = new(42);
        public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count).GetAwaiter().GetResult();
        public override async Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct)
        {
            if (_position >= length) return 0;
            var n = (int)Math.Min(count, length - _position);
            _random.NextBytes(buffer.AsSpan(offset, n));
            _position += n;
            if (_position >= signalAfter) { signal.TrySetResult(); await Task.Delay(20, ct); }
            return n;
        }
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => length;
        public override long Position { get => _position; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
