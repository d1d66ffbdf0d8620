using Arca.Core.Model;
using Arca.Server.Replication;

namespace Arca.Tests.Unit;

public class ReplicationUnitTests
{
    private static DateTimeOffset At(string iso) => DateTimeOffset.Parse(iso, System.Globalization.CultureInfo.InvariantCulture);

    [Fact]
    public void Cron_every_minute_at_second_zero_fires_at_the_next_minute()
    {
        var cron = CronSchedule.Parse("0 * * * * *");
        Assert.Equal(At("2026-01-01T10:01:00Z"), cron.GetNextOccurrence(At("2026-01-01T10:00:00Z")));
        Assert.Equal(At("2026-01-01T10:01:00Z"), cron.GetNextOccurrence(At("2026-01-01T10:00:59.900Z")));
        Assert.Equal(At("2026-01-02T00:00:00Z"), cron.GetNextOccurrence(At("2026-01-01T23:59:30Z")));
    }

    [Fact]
    public void Cron_steps_ranges_lists_and_weekdays()
    {
        Assert.Equal(At("2026-01-01T10:00:05Z"), CronSchedule.Parse("*/5 * * * * *").GetNextOccurrence(At("2026-01-01T10:00:00Z")));
        Assert.Equal(At("2026-01-01T10:05:00Z"), CronSchedule.Parse("0 */5 * * * *").GetNextOccurrence(At("2026-01-01T10:00:00Z")));
        Assert.Equal(At("2026-01-01T12:30:00Z"), CronSchedule.Parse("0 30 9-17/3 * * *").GetNextOccurrence(At("2026-01-01T10:00:00Z")));
        // 2026-01-01 is a Thursday; next Monday (1) or Sunday (7) at 02:00 → Sunday 4 January.
        Assert.Equal(At("2026-01-04T02:00:00Z"), CronSchedule.Parse("0 0 2 ? * 1,7").GetNextOccurrence(At("2026-01-01T10:00:00Z")));
        Assert.Equal(At("2028-02-29T00:00:00Z"), CronSchedule.Parse("0 0 0 29 2 *").GetNextOccurrence(At("2026-01-01T00:00:00Z")));
    }

    [Theory]
    [InlineData("* * * * *")]          // five fields: seconds are required
    [InlineData("60 * * * * *")]
    [InlineData("0 0 24 * * *")]
    [InlineData("0 0 0 0 * *")]
    [InlineData("*/0 * * * * *")]
    [InlineData("a * * * * *")]
    [InlineData("5-1 * * * * *")]
    [InlineData("")]
    public void Cron_rejects_bad_expressions(string expression)
    {
        var e = Assert.Throws<ArcaException>(() => CronSchedule.Parse(expression));
        Assert.Equal("INVALID_CRON", e.Code);
    }

    [Theory]
    [InlineData("library/*", "library/app", true)]
    [InlineData("library/*", "library/team/app", false)]
    [InlineData("library/**", "library/team/app", true)]
    [InlineData("**/app", "app", true)]
    [InlineData("**/app", "a/b/app", true)]
    [InlineData("lib?ary/app", "library/app", true)]
    [InlineData("library/app", "library/app2", false)]
    [InlineData("1.*", "1.0", true)]
    [InlineData("1.*", "10", false)]
    [InlineData("1.*", "2.1", false)]
    public void Globs_match_like_harbor(string glob, string name, bool matches) =>
        Assert.Equal(matches, ReplicationPatterns.Compile(glob).IsMatch(name));

    [Theory]
    [InlineData("a/b/c", "n", -1, "n/c")]
    [InlineData("a/b/c", "n", 0, "n/a/b/c")]
    [InlineData("a/b/c", "n", 1, "n/b/c")]
    [InlineData("a/b/c", "n", 2, "n/c")]
    [InlineData("a/b/c", "n", 3, "n")]
    [InlineData("a/b/c", null, 1, "a/b/c")]
    [InlineData("app", "n", -1, "n/app")]
    public void Namespace_replacement_follows_harbor(string repository, string? ns, int count, string expected) =>
        Assert.Equal(expected, ReplicationPatterns.ReplaceNamespace(repository, ns, count));

    [Fact]
    public void Namespace_replace_count_beyond_the_segments_is_an_error() =>
        Assert.Throws<ArcaException>(() => ReplicationPatterns.ReplaceNamespace("a/b", "n", 3));
}
