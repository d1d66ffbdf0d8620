using System.Security.Cryptography;
using System.Text.Json;
using Arca.Tests.Infrastructure;

namespace Arca.Tests.Http.Helm;

/// <summary>`arca artifact push|pull helm` through the ChartMuseum API and the chart download URL.</summary>
public sealed class HelmCliTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private string _work = null!;
    private const string Reg = "helm-cli";

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        await _server.CreateRegistryAsync(Reg, "HELM");
        _work = TempDir.Create("helm-cli");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        TempDir.TryDelete(_work);
    }

    [Fact]
    public async Task Push_then_pull_a_chart_and_refuse_duplicates_and_read_only_tokens()
    {
        var tgz = HelmCharts.Package("cli-chart", "3.1.4");
        var file = Path.Combine(_work, "cli-chart-3.1.4.tgz");
        await File.WriteAllBytesAsync(file, tgz);

        var readToken = await _server.CreateTokenAsync("read", Reg);
        var denied = await ArcaCli.RunAsync(_server.BaseUrl, readToken, ["artifact", "push", "helm", Reg, file], _work);
        Assert.NotEqual(0, denied.ExitCode);
        Assert.Contains("403", denied.All);

        (await ArcaCli.RunAsync(_server, "artifact", "push", "helm", Reg, file)).AssertOk("push helm");
        var dup = await ArcaCli.RunAsync(_server, "artifact", "push", "helm", Reg, file);
        Assert.NotEqual(0, dup.ExitCode);
        Assert.Contains("file already exists", dup.All);

        var dest = Path.Combine(_work, "out");
        Directory.CreateDirectory(dest);
        (await ArcaCli.RunAsync(_server.BaseUrl, readToken, ["artifact", "pull", "helm", Reg, "cli-chart/3.1.4", dest], _work)).AssertOk("pull helm");
        Assert.Equal(SHA256.HashData(tgz), SHA256.HashData(await File.ReadAllBytesAsync(Path.Combine(dest, "cli-chart-3.1.4.tgz"))));

        var get = await ArcaCli.RunAsync(_server, "--format", "json", "registry", "get", Reg);
        Assert.Contains($"{_server.BaseUrl}/pkg/{Reg}/helm", get.AssertOk("registry get").Stdout);

        // The generic artifact commands see the chart as package/version.
        var list = await ArcaCli.RunAsync(_server, "--format", "json", "artifact", "list", "--registry", Reg);
        Assert.Contains("cli-chart", list.AssertOk("artifact list").Stdout);
        var version = JsonDocument.Parse(await _server.Admin.GetStringAsync($"api/v1/registries/{Reg}/version?package=cli-chart&version=3.1.4")).RootElement;
        var chart = version.GetProperty("version").GetProperty("properties").GetProperty("chart");
        Assert.Equal("cli-chart", chart.GetProperty("name").GetString());
        Assert.Equal("1.16.0", chart.GetProperty("appVersion").GetString());
        Assert.False(chart.TryGetProperty("fileName", out _));
    }
}
