using Arca.Core.Storage;
using Arca.Storage.FileSystem;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Storage;

public sealed class FileSystemBlobStoreTests : BlobStoreContract
{
    private readonly string _dir = TempDir.Create("fsblobs");
    protected override Task<IBlobStore> CreateStoreAsync() => Task.FromResult<IBlobStore>(new FileSystemBlobStore(_dir));
    protected override Task CleanupAsync() { TempDir.TryDelete(_dir); return Task.CompletedTask; }

    [Fact]
    public async Task Interrupted_writes_leave_only_temp_files_that_cleanup_removes()
    {
        var tmp = Path.Combine(_dir, "tmp", "writes");
        await File.WriteAllTextAsync(Path.Combine(tmp, "leftover"), "partial");
        await Store.CleanupTemporaryAsync(TimeSpan.Zero);
        Assert.Empty(Directory.GetFiles(tmp));
        Assert.Empty(Directory.GetFiles(Path.Combine(_dir, "blobs"), "*", SearchOption.AllDirectories));
    }
}
