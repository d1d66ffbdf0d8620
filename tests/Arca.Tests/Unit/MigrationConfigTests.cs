using Arca.Migration.Config;

namespace Arca.Tests.Unit;

public sealed class MigrationConfigTests
{
    private const string Valid = """
        version: 1.0.0
        concurrency: 3
        overwrite: false
        source:
          endpoint: https://nexus.example.com
          type: HAR
          credentials: { username: ${SRC_USER}, password: ${SRC_TOKEN} }
        destination:
          endpoint: http://127.0.0.1:8080
          type: ARCA
          credentials: { username: admin, password: tok }
        mappings:
          - artifactType: generic
            sourceRegistry: files
            destinationRegistry: files-copy
            includePatterns: ["team-a/**"]
        """;

    private static Func<string, string?> Env(params (string, string)[] vars) => name => vars.FirstOrDefault(v => v.Item1 == name).Item2;

    [Fact]
    public void Parses_the_hc_schema_with_variables()
    {
        var c = ConfigLoader.Parse(Valid, "m.yaml", Env(("SRC_USER", "bob"), ("SRC_TOKEN", "s3cr3t")));
        Assert.Equal(3, c.Concurrency);
        Assert.Equal("ARCA", c.Source.Type); // HAR alias
        Assert.Equal("bob", c.Source.Username);
        Assert.Equal("s3cr3t", c.Source.Password);
        var m = Assert.Single(c.Mappings);
        Assert.Equal("GENERIC", m.ArtifactType);
        Assert.Equal(["team-a/**"], m.IncludePatterns);
    }

    [Fact]
    public void Unset_variable_is_an_error_naming_line_and_field()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid, "m.yaml", Env(("SRC_USER", "bob"))));
        Assert.Contains("m.yaml:7: source.credentials.password: environment variable ${SRC_TOKEN} is not set", e.Message);
    }

    [Theory]
    [InlineData("concurrency: 3", "concurrency: zero", "m.yaml:2: concurrency")]
    [InlineData("type: HAR", "type: GITHUB", "m.yaml:6: source.type: unknown type 'GITHUB'")]
    [InlineData("artifactType: generic", "artifactType: floppy", "m.yaml:13: mappings[0].artifactType: unknown artifact type 'FLOPPY'")]
    [InlineData("destinationRegistry: files-copy", "destinationRegistry: Bad/Name", "m.yaml:15: mappings[0].destinationRegistry")]
    [InlineData("overwrite: false", "overwrite: maybe", "m.yaml:3: overwrite: 'maybe' is not true or false")]
    [InlineData("overwrite: false", "overwrit: false", "m.yaml:3: overwrit: unknown field")]
    [InlineData("endpoint: https://nexus.example.com", "endpoint: ftp://x", "m.yaml:5: source.endpoint: 'ftp://x' is not an http(s) URL")]
    public void Validation_errors_name_the_line_and_field(string from, string to, string expected)
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid.Replace(from, to), "m.yaml", Env(("SRC_USER", "u"), ("SRC_TOKEN", "p"))));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void Missing_sections_are_reported()
    {
        var e = Assert.Throws<ConfigException>(() => ConfigLoader.Parse("version: 1.0.0\n", "m.yaml"));
        Assert.Contains("source: required", e.Message);
        Assert.Contains("destination: required", e.Message);
        Assert.Contains("mappings: required", e.Message);
        Assert.Throws<ConfigException>(() => ConfigLoader.Parse("a: [", "m.yaml"));
    }

    [Theory]
    [InlineData("team-a/**", "team-a/app", true)]
    [InlineData("team-a/**", "team-a/x/y", true)]
    [InlineData("team-a/**", "team-b/app", false)]
    [InlineData("*", "app", true)]
    [InlineData("*", "team/app", false)]
    [InlineData("**", "team/app", true)]
    [InlineData("lib-?", "lib-1", true)]
    [InlineData("a/**/b", "a/b", true)]
    [InlineData("a/**/b", "a/x/y/b", true)]
    [InlineData("@acme/*", "@acme/util", true)]
    [InlineData("v1.*", "v1x2", false)]
    public void Globs(string pattern, string name, bool match) => Assert.Equal(match, new Glob(pattern).IsMatch(name));
    [Fact]
    public void AwsRegion_is_a_DOCKER_REGISTRY_source_extension_checked_with_its_line()
    {
        var docker = Valid.Replace("type: HAR", "type: DOCKER_REGISTRY\n  awsRegion: eu-west-3");
        Assert.Equal("eu-west-3", ConfigLoader.Parse(docker, "m.yaml", Env(("SRC_USER", "u"), ("SRC_TOKEN", "p"))).Source.AwsRegion);

        var bad = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(docker.Replace("eu-west-3", "Europe"), "m.yaml", Env(("SRC_USER", "u"), ("SRC_TOKEN", "p"))));
        Assert.Contains("m.yaml:7: source.awsRegion: 'Europe' is not an AWS region", bad.Message);
        var wrongType = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid.Replace("type: HAR", "type: NEXUS\n  awsRegion: us-east-1"), "m.yaml", Env(("SRC_USER", "u"), ("SRC_TOKEN", "p"))));
        Assert.Contains("m.yaml:7: source.awsRegion: only a DOCKER_REGISTRY source authenticates with AWS ECR", wrongType.Message);
        var onDestination = Assert.Throws<ConfigException>(() => ConfigLoader.Parse(Valid.Replace("type: ARCA", "type: ARCA\n  awsRegion: us-east-1"), "m.yaml", Env(("SRC_USER", "u"), ("SRC_TOKEN", "p"))));
        Assert.Contains("m.yaml:11: destination.awsRegion: only a DOCKER_REGISTRY source", onDestination.Message);
    }
}
