using System.Diagnostics;
using Arca.Client.Oci;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Clients.ImageCopy;

/// <summary>
/// ECR credential derivation end to end: the AWS key pair is exchanged (SigV4-signed GetAuthorizationToken) with moto's
/// ECR API for a token, whose decoded "AWS:password" opens an htpasswd docker-registry standing in for the ECR registry.
/// </summary>
public sealed class EcrImageCopyTests : IAsyncLifetime
{
    // moto answers password "<account>-auth-token" for its default account.
    private const string EcrPassword = "123456789012-auth-token";
    private Process _moto = null!;
    private string _motoUrl = null!;
    private DockerRegistryServer _source = null!;
    private DockerRegistryServer _ecr = null!;
    private OciTestImage _image = null!;

    public async Task InitializeAsync()
    {
        var port = DockerRegistryServer.FreePort();
        var psi = new ProcessStartInfo(Proc.Tool("moto_server")) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in new[] { "-H", "127.0.0.1", "-p", port.ToString() }) psi.ArgumentList.Add(a);
        _moto = Process.Start(psi)!;
        _moto.OutputDataReceived += (_, _) => { };
        _moto.ErrorDataReceived += (_, _) => { };
        _moto.BeginOutputReadLine();
        _moto.BeginErrorReadLine();
        _motoUrl = $"http://127.0.0.1:{port}/";
        using var http = new HttpClient();
        for (var i = 0; ; i++)
        {
            try { using var r = await http.GetAsync(_motoUrl); break; }
            catch (HttpRequestException) when (i < 100) { await Task.Delay(100); }
        }
        _source = await DockerRegistryServer.StartAsync();
        _ecr = await DockerRegistryServer.StartAsync("AWS", EcrPassword);
        _image = OciTestImage.Create("1.0", "ecr-" + Guid.NewGuid().ToString("N"), largeLayerBytes: 8192);
        await _image.PushWithSkopeoAsync(_source, "team/app");
    }

    public async Task DisposeAsync()
    {
        if (!_moto.HasExited) { _moto.Kill(entireProcessTree: true); await _moto.WaitForExitAsync(); }
        _moto.Dispose();
        await _source.DisposeAsync();
        await _ecr.DisposeAsync();
        TempDir.TryDelete(_image.LayoutDir);
    }

    [Fact]
    public async Task Ecr_client_gets_a_token_from_the_ecr_api()
    {
        using var http = new HttpClient();
        var provider = new EcrCredentialProvider(new EcrAuthorizationClient(http, _ => new Uri(_motoUrl)),
            new AwsCredentials("AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"));
        var credential = await provider.GetAsync("123456789012.dkr.ecr.us-west-2.amazonaws.com", default);
        Assert.Equal(("AWS", EcrPassword), (credential!.Username, credential.Password));
    }

    [Fact]
    public async Task Image_copy_authenticates_to_ecr_with_an_aws_key_pair()
    {
        var env = new Dictionary<string, string?> { ["AWS_ENDPOINT_URL_ECR"] = _motoUrl };
        var result = await ImageCopyTests.ArcaWithEnv(env, "image", "copy", "--src-insecure", "--dest-insecure",
            "--dest-aws-access-key-id", "AKIAIOSFODNN7EXAMPLE", "--dest-aws-secret-access-key", "secret", "--dest-aws-region", "eu-west-1",
            $"{_source.HostPort}/team/app:1.0", $"{_ecr.HostPort}/team/app:1.0");
        result.AssertOk("image copy to ECR");
        await ImageCopyTests.AssertFullCopyAsync(_image, _ecr, "team/app", "1.0");
    }
}
