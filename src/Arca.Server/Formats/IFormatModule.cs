using Arca.Core.Model;

namespace Arca.Server.Formats;

/// <summary>
/// A package format plugged into the server. Each format lives in its own folder under Formats/ and is
/// registered once in <see cref="FormatModules"/>. Modules share the metadata store, blob store and access control.
/// </summary>
public interface IFormatModule
{
    /// <summary>Short name, also the URL segment under /pkg/&lt;registry&gt;/ (e.g. "generic", "npm").</summary>
    string Name { get; }

    /// <summary>Registry package types this module serves.</summary>
    IReadOnlyList<string> PackageTypes { get; }

    /// <summary>Registers the module's services (parsers, stores) before the app is built.</summary>
    void AddServices(IServiceCollection services) { }

    /// <summary>Maps the module's protocol endpoints.</summary>
    void MapEndpoints(IEndpointRouteBuilder app);

    /// <summary>The URL a client of this format is given for the registry (shown by `arca registry get`), or null.</summary>
    string? ClientUrl(Registry registry, string baseUrl);

    /// <summary>True when an error on this request path should be written in this module's protocol format.</summary>
    bool OwnsPath(PathString path) => false;

    /// <summary>Writes an error in the protocol's own format. The default is Arca's JSON error.</summary>
    Task WriteErrorAsync(HttpContext ctx, ArcaException error) => ErrorWriter.WriteJsonAsync(ctx, error);
}
