using Arca.Core.Model;

namespace Arca.Server.Replication;

/// <summary>
/// A six-field cron expression with seconds first, as Harbor and PRODUCT.md write them: <c>sec min hour day month weekday</c>
/// ("0 */5 * * * *" = every five minutes). Each field takes <c>*</c>, numbers, ranges <c>a-b</c>, steps <c>*/n</c> or
/// <c>a-b/n</c>, and comma lists; <c>?</c> equals <c>*</c> in day fields; weekday 0 and 7 are Sunday. As in classic cron,
/// when both day-of-month and weekday are restricted a day matching either one fires. Times are UTC.
/// (No cron package is available from this project's NuGet mirror, hence this small parser.)
/// </summary>
public sealed class CronSchedule
{
    private readonly bool[] _seconds, _minutes, _hours, _days, _months, _weekdays;
    private readonly bool _dayRestricted, _weekdayRestricted;
    public string Expression { get; }

    private CronSchedule(string expression, bool[][] fields, bool dayRestricted, bool weekdayRestricted)
    {
        Expression = expression;
        (_seconds, _minutes, _hours, _days, _months, _weekdays) = (fields[0], fields[1], fields[2], fields[3], fields[4], fields[5]);
        _dayRestricted = dayRestricted;
        _weekdayRestricted = weekdayRestricted;
    }

    private static readonly (string Name, int Min, int Max)[] Fields =
        [("second", 0, 59), ("minute", 0, 59), ("hour", 0, 23), ("day of month", 1, 31), ("month", 1, 12), ("day of week", 0, 7)];

    /// <summary>Parses an expression or throws a 400 naming the bad field.</summary>
    public static CronSchedule Parse(string? expression)
    {
        var parts = (expression ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 6)
            throw Invalid(expression, "expected 6 fields: second minute hour day-of-month month day-of-week (e.g. \"0 */5 * * * *\")");
        var fields = new bool[6][];
        for (var i = 0; i < 6; i++) fields[i] = ParseField(expression!, parts[i], Fields[i].Name, Fields[i].Min, Fields[i].Max);
        if (fields[5][7]) fields[5][0] = true; // 7 is Sunday too
        return new CronSchedule(string.Join(' ', parts), fields, !IsWildcard(parts[3]), !IsWildcard(parts[5]));
    }

    public static bool TryParse(string? expression, out CronSchedule? schedule)
    {
        try { schedule = Parse(expression); return true; }
        catch (ArcaException) { schedule = null; return false; }
    }

    private static bool IsWildcard(string field) => field is "*" or "?";

    private static bool[] ParseField(string expression, string field, string name, int min, int max)
    {
        var allowed = new bool[max + 1];
        foreach (var item in field.Split(','))
        {
            var step = 1;
            var range = item;
            var slash = item.IndexOf('/');
            if (slash >= 0)
            {
                if (!int.TryParse(item[(slash + 1)..], out step) || step < 1)
                    throw Invalid(expression, $"bad step in {name} field '{field}'");
                range = item[..slash];
            }
            int from, to;
            if (range is "*" or "?") (from, to) = (min, max);
            else if (range.IndexOf('-') is var dash and > 0)
            {
                if (!int.TryParse(range[..dash], out from) || !int.TryParse(range[(dash + 1)..], out to))
                    throw Invalid(expression, $"bad range in {name} field '{field}'");
            }
            else
            {
                if (!int.TryParse(range, out from)) throw Invalid(expression, $"bad value in {name} field '{field}'");
                to = slash >= 0 ? max : from; // "5/15" means from 5 every 15
            }
            if (from < min || to > max || from > to)
                throw Invalid(expression, $"{name} field '{field}' is outside {min}-{max}");
            for (var v = from; v <= to; v += step) allowed[v] = true;
        }
        return allowed;
    }

    private static ArcaException Invalid(string? expression, string why) =>
        ArcaException.BadRequest($"invalid cron expression '{expression}': {why}", "INVALID_CRON");

    private bool DayMatches(DateTime t)
    {
        var day = _days[t.Day];
        var weekday = _weekdays[(int)t.DayOfWeek];
        if (_dayRestricted && _weekdayRestricted) return day || weekday;
        return day && weekday;
    }

    /// <summary>The first time strictly after <paramref name="after"/> that matches (UTC), or null within the next 5 years.</summary>
    public DateTimeOffset? GetNextOccurrence(DateTimeOffset after)
    {
        var t = after.UtcDateTime;
        t = new DateTime(t.Year, t.Month, t.Day, t.Hour, t.Minute, t.Second, DateTimeKind.Utc).AddSeconds(1);
        var limit = t.AddYears(5);
        while (t < limit)
        {
            if (!_months[t.Month]) { t = new DateTime(t.Year, t.Month, 1, 0, 0, 0, DateTimeKind.Utc).AddMonths(1); continue; }
            if (!DayMatches(t)) { t = t.Date.AddDays(1); continue; }
            if (!_hours[t.Hour]) { t = t.Date.AddHours(t.Hour + 1); continue; }
            if (!_minutes[t.Minute]) { t = t.Date.AddHours(t.Hour).AddMinutes(t.Minute + 1); continue; }
            if (!_seconds[t.Second]) { t = t.AddSeconds(1); continue; }
            return new DateTimeOffset(t);
        }
        return null;
    }
}
