using System.CommandLine;

namespace Arca.Cli.Transfer;

/// <summary>
/// `arca artifact push|pull &lt;type&gt; ...` for one package format. Each format's transfer lives in its own file in
/// this folder and is registered by one line in <see cref="ArtifactTransfers"/>. Transfers talk to the same
/// endpoints the format's real clients use (/pkg/&lt;registry&gt;/&lt;format&gt;/...), never to internals.
/// </summary>
public interface IArtifactTransfer
{
    /// <summary>The &lt;type&gt; argument: generic, npm, python, maven, nuget, go, helm...</summary>
    string Type { get; }

    /// <summary>One line for --help.</summary>
    string Description { get; }

    /// <summary>Type-specific flags of `push` (e.g. generic: --package, --version). Created once per process.</summary>
    IReadOnlyList<Option> PushOptions { get; }

    /// <summary>Type-specific flags of `pull`.</summary>
    IReadOnlyList<Option> PullOptions => [];

    /// <summary>Uploads <paramref name="path"/> (a file or a directory, as the format allows). Returns the exit code.</summary>
    Task<int> PushAsync(TransferContext ctx, string path, ParseResult parse, CancellationToken ct);

    /// <summary>Downloads <paramref name="reference"/> (format-specific, e.g. "pkg/1.0/file") to <paramref name="destination"/>.</summary>
    Task<int> PullAsync(TransferContext ctx, string reference, string destination, ParseResult parse, CancellationToken ct);
}

/// <summary>What a transfer gets: an HttpClient already authenticated for the server (BaseAddress = server URL with a
/// trailing '/'), the registry name, and output helpers that respect --format and show progress bars.</summary>
public sealed class TransferContext(HttpClient http, string registry, Output output)
{
    public HttpClient Http { get; } = http;
    public string Registry { get; } = registry;
    public Output Output { get; } = output;

    /// <summary>URL of this registry's format endpoint, e.g. Format("npm") → "pkg/&lt;registry&gt;/npm/".</summary>
    public string FormatPath(string format) => $"pkg/{Uri.EscapeDataString(Registry)}/{format}/";
}
