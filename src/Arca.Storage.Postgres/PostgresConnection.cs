using Npgsql;

namespace Arca.Storage.Postgres;

/// <summary>Recognises and normalises the PostgreSQL connection strings `--database` accepts: URIs
/// (<c>postgres://user:pass@host:port/db?sslmode=require</c>, <c>postgresql://...</c>) and Npgsql keyword strings
/// (<c>Host=...;Database=...</c>).</summary>
public static class PostgresConnection
{
    public static bool IsPostgres(string database) =>
        database.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
        || database.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase)
        || (database.Contains('=') && !database.Contains("://", StringComparison.Ordinal)
            && database.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Any(p => p.StartsWith("Host=", StringComparison.OrdinalIgnoreCase) || p.StartsWith("Server=", StringComparison.OrdinalIgnoreCase)));

    /// <summary>Where the connection goes, for messages: user@host:port/database, never the password.</summary>
    public static string Describe(string database)
    {
        try
        {
            var b = new NpgsqlConnectionStringBuilder(ToNpgsql(database));
            return $"{(b.Username is { Length: > 0 } u ? u + "@" : "")}{b.Host}:{b.Port}/{b.Database}";
        }
        catch (ArgumentException) { return "(unparsable connection string)"; }
    }

    /// <summary>An Npgsql connection string for <paramref name="database"/>; throws <see cref="ArgumentException"/>
    /// with a one-line reason when it cannot be understood.</summary>
    public static string ToNpgsql(string database)
    {
        if (!database.Contains("://", StringComparison.Ordinal))
        {
            try { return new NpgsqlConnectionStringBuilder(database).ConnectionString; }
            catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
            {
                throw new ArgumentException($"invalid PostgreSQL connection string: {e.Message}");
            }
        }
        if (!Uri.TryCreate(database, UriKind.Absolute, out var uri) || uri.Host.Length == 0)
            throw new ArgumentException("invalid PostgreSQL URI (expected postgres://user:password@host:port/database)");
        var b = new NpgsqlConnectionStringBuilder { Host = uri.Host };
        if (uri.Port > 0) b.Port = uri.Port;
        var db = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (db.Length > 0) b.Database = db;
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':');
            b.Username = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            if (colon >= 0) b.Password = Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }
        foreach (var pair in uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Uri.UnescapeDataString(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Uri.UnescapeDataString(pair[(eq + 1)..].Replace('+', ' '));
            // libpq spellings of the common parameters; anything else must be an Npgsql keyword.
            key = key.ToLowerInvariant() switch
            {
                "sslmode" => "SSL Mode", // value spelled like libpq (verify-full) is mapped below
                "sslrootcert" => "Root Certificate",
                "sslcert" => "SSL Certificate",
                "sslkey" => "SSL Key",
                "connect_timeout" => "Timeout",
                "application_name" => "Application Name",
                "options" => "Options",
                _ => key,
            };
            if (key == "SSL Mode") value = value.Replace("-", "", StringComparison.Ordinal);
            try { b[key] = value; }
            catch (Exception e) when (e is ArgumentException or FormatException or KeyNotFoundException)
            {
                throw new ArgumentException($"invalid PostgreSQL URI parameter '{key}': {e.Message}");
            }
        }
        return b.ConnectionString;
    }
}
