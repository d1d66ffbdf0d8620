using Arca.Migration.Engine;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Unit;

public sealed class SourceChecksumMemoTests : IDisposable
{
    private readonly string _dir = TempDir.Create("memo");
    private const string Sha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

    public void Dispose() => TempDir.TryDelete(_dir);

    [Fact]
    public void A_sum_is_reused_only_while_every_validator_is_unchanged_and_survives_a_reopen()
    {
        var state = Path.Combine(_dir, "m.state.jsonl");
        var fp = new SourceFingerprint("\"abc\"", "Sun, 22 Nov 2026 08:00:00 GMT", 42);
        using (var memo = SourceChecksumMemo.OpenBeside(state))
        {
            Assert.Null(memo.Lookup("k", fp));
            memo.Record("k", fp, Sha.ToUpperInvariant());
            Assert.Equal(Sha, memo.Lookup("k", fp));
            Assert.Null(memo.Lookup("other", fp));
            Assert.Null(memo.Lookup("k", fp with { ETag = "\"abd\"" }));
            Assert.Null(memo.Lookup("k", fp with { LastModified = "Sun, 22 Nov 2026 08:00:01 GMT" }));
            Assert.Null(memo.Lookup("k", fp with { Length = 43 }));
        }
        Assert.True(File.Exists(Path.Combine(_dir, "m.checksums.jsonl")));
        File.AppendAllText(Path.Combine(_dir, "m.checksums.jsonl"), "{\"Key\":\"cut"); // a line cut by a crash
        using (var reopened = SourceChecksumMemo.OpenBeside(state))
        {
            Assert.Equal(Sha, reopened.Lookup("k", fp));
            reopened.Record("k2", fp, Sha); // appended after the cut line, not glued to it
        }
        using var third = SourceChecksumMemo.OpenBeside(state);
        Assert.Equal(Sha, third.Lookup("k2", fp));
    }

    [Fact]
    public void Without_an_ETag_or_Last_Modified_nothing_is_remembered()
    {
        using var memo = SourceChecksumMemo.OpenBeside(Path.Combine(_dir, "n.state.jsonl"));
        var lengthOnly = new SourceFingerprint(null, null, 42);
        memo.Record("k", lengthOnly, Sha);
        Assert.Null(memo.Lookup("k", lengthOnly));
    }
}
