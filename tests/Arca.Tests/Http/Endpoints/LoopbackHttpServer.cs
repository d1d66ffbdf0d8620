using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Arca.Tests.Http.Endpoints;

/// <summary>A tiny Kestrel server on 127.0.0.1 with a hand-written handler that records every request it gets
/// (method, path, Authorization header) — to play remotes that redirect or run a token service.</summary>
public sealed class LoopbackHttpServer : IAsyncDisposable
{
    public sealed record SeenRequest(string Method, string Path, string? Authorization);

    private readonly WebApplication _app;
    public string BaseUrl { get; }
    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    private LoopbackHttpServer(WebApplication app, string baseUrl) { _app = app; BaseUrl = baseUrl; }

    public static async Task<LoopbackHttpServer> StartAsync(Func<HttpContext, LoopbackHttpServer, Task> handler)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        LoopbackHttpServer? self = null;
        app.Run(async ctx =>
        {
            self!.Requests.Enqueue(new SeenRequest(ctx.Request.Method, ctx.Request.Path + ctx.Request.QueryString,
                ctx.Request.Headers.Authorization.Count > 0 ? ctx.Request.Headers.Authorization.ToString() : null));
            await handler(ctx, self);
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().TrimEnd('/');
        self = new LoopbackHttpServer(app, address);
        return self;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
