using Arca.Storage.Postgres;
using Npgsql;

namespace Arca.Tests.Storage.Postgres;

/// <summary>Which --database values mean PostgreSQL, and how URIs become Npgsql connection strings.</summary>
public sealed class PostgresConnectionStringTests
{
    [Theory]
    [InlineData("postgres://u@h/db", true)]
    [InlineData("POSTGRESQL://u@h/db", true)]
    [InlineData("Host=db;Database=arca", true)]
    [InlineData("server=db; database=arca", true)]
    [InlineData("sqlite:/var/lib/arca.db", false)]
    [InlineData("mysql://root@db/arca", false)]
    [InlineData("Data Source=arca.db", false)]
    public void Recognises_postgres_connection_strings(string database, bool expected) =>
        Assert.Equal(expected, PostgresConnection.IsPostgres(database));

    [Fact]
    public void A_uri_becomes_an_npgsql_connection_string_with_decoded_credentials_and_libpq_parameters()
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresConnection.ToNpgsql(
            "postgresql://arca%40corp:p%3Ass%2Fw0rd@db.internal:6543/arca%20prod?sslmode=verify-full&application_name=arca-1&connect_timeout=7&Maximum%20Pool%20Size=12"));
        Assert.Equal(("db.internal", 6543, "arca prod", "arca@corp", "p:ss/w0rd"), (b.Host, b.Port, b.Database, b.Username, b.Password));
        Assert.Equal((SslMode.VerifyFull, "arca-1", 7, 12), (b.SslMode, b.ApplicationName, b.Timeout, b.MaxPoolSize));
        Assert.Equal("arca@corp@db.internal:6543/arca prod", PostgresConnection.Describe("postgresql://arca%40corp:p%3Ass%2Fw0rd@db.internal:6543/arca%20prod"));
    }

    [Fact]
    public void Defaults_and_keyword_strings_pass_through()
    {
        var b = new NpgsqlConnectionStringBuilder(PostgresConnection.ToNpgsql("postgres://db"));
        Assert.Equal(("db", 5432), (b.Host, b.Port));
        Assert.Equal("Host=db;Database=arca;Username=arca", PostgresConnection.ToNpgsql("Host=db;Database=arca;Username=arca"));
    }

    [Theory]
    [InlineData("postgres://")]
    [InlineData("postgres://h/db?sslmode=sometimes")]
    [InlineData("postgres://h/db?no_such_option=1")]
    [InlineData("Host=h;No Such Keyword=1")]
    public void Bad_connection_strings_are_refused_with_a_reason(string database) =>
        Assert.StartsWith("invalid PostgreSQL", Assert.Throws<ArgumentException>(() => PostgresConnection.ToNpgsql(database)).Message);
}
