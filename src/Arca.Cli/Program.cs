using Arca.Server.Hosting;
var app = await ArcaServer.BuildAsync(new ServerOptions { Listen = "http://127.0.0.1:18080", DataDirectory = "/tmp/arca-smoke", AdminToken = "secret" });
await app.RunAsync();
