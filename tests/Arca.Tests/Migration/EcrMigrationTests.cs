using System.Collections.Concurrent;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Arca.Tests.Http.Endpoints;
using Arca.Tests.Infrastructure;
using Microsoft.AspNetCore.Http;
using static Arca.Tests.Migration.OciMigrationSupport;

namespace Arca.Tests.Migration;

/// <summary>
/// An EMULATOR of AWS ECR's JSON API, GetAuthorizationToken only (not ECR): a POST with
/// <c>X-Amz-Target: AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken</c> and a SigV4 Authorization header
/// whose credential scope names the expected access key id, a region and service <c>ecr</c> gets
/// <c>{"authorizationData":[{"authorizationToken": base64("AWS:password"), "expiresAt", "proxyEndpoint"}]}</c>;
/// anything else gets ECR's JSON error (400, <c>__type</c>). Every accepted call is recorded.
/// </summary>
internal sealed class EcrApiEmulator : IAsyncDisposable
{
    public const string Target = "AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken";
    private readonly string _accessKeyId, _password;
    public LoopbackHttpServer Server { get; private set; } = null!;
    public string BaseUrl => Server.BaseUrl;
    public ConcurrentQueue<(string Region, string? SessionToken)> Calls { get; } = new();

    private EcrApiEmulator(string accessKeyId, string password) { _accessKeyId = accessKeyId; _password = password; }

    public static async Task<EcrApiEmulator> StartAsync(string accessKeyId, string password)
    {
        var emulator = new EcrApiEmulator(accessKeyId, password);
        emulator.Server = await LoopbackHttpServer.StartAsync((ctx, _) => emulator.HandleAsync(ctx));
        return emulator;
    }

    private async Task HandleAsync(HttpContext ctx)
    {
        var authorization = ctx.Request.Headers.Authorization.ToString();
        // AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/ecr/aws4_request, SignedHeaders=..., Signature=<64 hex>
        var sig = Regex.Match(authorization, @"^AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([a-z0-9-]+)/([a-z0-9]+)/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$");
        string? problem = ctx.Request.Method != "POST" ? "UnsupportedOperation"
            : ctx.Request.Headers["X-Amz-Target"].ToString() != Target ? "UnknownOperationException"
            : !sig.Success ? "MissingAuthenticationTokenException"
            : sig.Groups[1].Value != _accessKeyId ? "UnrecognizedClientException"
            : sig.Groups[4].Value != "ecr" || !sig.Groups[5].Value.Split(';').Contains("x-amz-date") ? "InvalidSignatureException"
            : null;
        if (problem is not null)
        {
            ctx.Response.StatusCode = 400;
            ctx.Response.ContentType = "application/x-amz-json-1.1";
            await ctx.Response.WriteAsync(new JsonObject { ["__type"] = problem, ["message"] = $"rejected: {problem}" }.ToJsonString());
            return;
        }
        var session = ctx.Request.Headers["X-Amz-Security-Token"].ToString();
        Calls.Enqueue((sig.Groups[3].Value, session.Length > 0 ? session : null));
        ctx.Response.ContentType = "application/x-amz-json-1.1";
        await ctx.Response.WriteAsync(new JsonObject
        {
            ["authorizationData"] = new JsonArray(new JsonObject
            {
                ["authorizationToken"] = Convert.ToBase64String(Encoding.UTF8.GetBytes($"AWS:{_password}")),
                ["expiresAt"] = DateTimeOffset.UtcNow.AddHours(12).ToUnixTimeSeconds(),
                ["proxyEndpoint"] = $"https://123456789012.dkr.ecr.{sig.Groups[3].Value}.amazonaws.com",
            }),
        }.ToJsonString());
    }

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>
/// `arca registry migrate` from a DOCKER_REGISTRY source authenticated as AWS ECR: <c>source.awsRegion</c> forces ECR
/// auth on a real docker-registry (htpasswd user AWS, the password the ECR API emulator above hands out), the CLI
/// reaching the emulator through AWS_ENDPOINT_URL_ECR. The AWS key pair comes from the config, then from the environment.
/// </summary>
public sealed class EcrMigrationTests : IAsyncLifetime
{
    private const string AccessKeyId = "AKIAARCATESTKEY00001", SecretKey = "arca/test+secret", RegistryPassword = "ecr-issued-pw";
    private EcrApiEmulator _ecrApi = null!;
    private DockerRegistryServer _registry = null!;
    private TestServer _arca = null!;
    private string _work = null!;

    public async Task InitializeAsync()
    {
        _ecrApi = await EcrApiEmulator.StartAsync(AccessKeyId, RegistryPassword);
        _registry = await DockerRegistryServer.StartAsync("AWS", RegistryPassword);
        _arca = await TestServer.StartAsync();
        _work = TempDir.Create("migrate-ecr");
    }

    public async Task DisposeAsync()
    {
        await _ecrApi.DisposeAsync();
        await _registry.DisposeAsync();
        await _arca.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    private string Config(string credentials, string destinationRegistry) => WriteConfig(_work, $"""
        version: 1.0.0
        createRegistries: true
        source:
          endpoint: {_registry.BaseUrl}
          type: DOCKER_REGISTRY
          awsRegion: eu-central-1
        {credentials}
        destination:
          endpoint: {_arca.BaseUrl}
          type: ARCA
          credentials: {"{"} username: admin, password: {_arca.AdminToken} {"}"}
        mappings:
          - artifactType: DOCKER
            sourceRegistry: team
            destinationRegistry: {destinationRegistry}
        """);

    [Fact]
    public async Task An_ecr_source_is_read_with_registry_credentials_from_GetAuthorizationToken_with_config_or_environment_keys()
    {
        using var push = BasicClient(_registry.BaseUrl, "AWS", RegistryPassword);
        var (image, blobs) = RandomImage("ecr-migrate", 8192);
        await PushAsync(push, "team/service", image, blobs, "1.0", "latest");

        // 1. The key pair in the config: username = access key id, password = secret access key.
        var withKeys = Config($"  credentials: {"{"} username: {AccessKeyId}, password: \"${"{"}AWS_SECRET{"}"}\" {"}"}", "ecr-mirror");
        var env = new Dictionary<string, string?>
        {
            ["AWS_ENDPOINT_URL_ECR"] = _ecrApi.BaseUrl, ["AWS_SECRET"] = SecretKey,
            ["AWS_ACCESS_KEY_ID"] = null, ["AWS_SECRET_ACCESS_KEY"] = null, ["AWS_SESSION_TOKEN"] = null,
        };
        var first = await MigrateAsync(_work, withKeys, env, "--format", "json");
        first.AssertOk("migration from the ECR-authenticated registry");
        Assert.Equal(2, Mapping(first, 0).GetProperty("succeeded").GetInt32());
        using var arca = _arca.CreateClient(_arca.AdminToken);
        Assert.Equal(image.Digest, await ManifestDigestAsync(arca, "ecr-mirror/service", "1.0"));
        Assert.Equal(image.Digest, await ManifestDigestAsync(arca, "ecr-mirror/service", "latest"));
        Assert.Contains(_ecrApi.Calls, c => c.Region == "eu-central-1" && c.SessionToken is null);

        // 2. No credentials in the config: the AWS environment variables, session token included.
        var calls = _ecrApi.Calls.Count;
        var fromEnv = Config("", "ecr-mirror-env");
        var envKeys = new Dictionary<string, string?>
        {
            ["AWS_ENDPOINT_URL_ECR"] = _ecrApi.BaseUrl,
            ["AWS_ACCESS_KEY_ID"] = AccessKeyId, ["AWS_SECRET_ACCESS_KEY"] = SecretKey, ["AWS_SESSION_TOKEN"] = "session-token-1",
        };
        (await MigrateAsync(_work, fromEnv, envKeys)).AssertOk("migration with AWS keys from the environment");
        Assert.Equal(image.Digest, await ManifestDigestAsync(arca, "ecr-mirror-env/service", "1.0"));
        Assert.Contains(_ecrApi.Calls.Skip(calls), c => c.Region == "eu-central-1" && c.SessionToken == "session-token-1");

        // 3. A wrong access key id: ECR refuses, the run fails and says so.
        var wrong = Config($"  credentials: {"{"} username: AKIAWRONGKEY000000000, password: x {"}"}", "ecr-wrong");
        var report = Path.Combine(_work, "wrong.json");
        var refused = await MigrateAsync(_work, wrong, env, "--report", report);
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("UnrecognizedClientException", refused.All);
    }
}
