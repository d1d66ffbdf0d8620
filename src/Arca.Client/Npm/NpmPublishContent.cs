using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Arca.Client.Npm;

/// <summary>npm registry naming and the publish document `npm publish` sends, shared by `arca artifact push` and
/// `arca registry migrate`.</summary>
public static class NpmPublish
{
    /// <summary>npm's own form of a scoped name in a URL: "@scope%2fname".</summary>
    public static string EscapeName(string name) =>
        name.StartsWith('@') ? Uri.EscapeDataString(name).Replace("%40", "@", StringComparison.Ordinal) : Uri.EscapeDataString(name);

    /// <summary>The attachment name npm gives a tarball: "&lt;name&gt;-&lt;version&gt;.tgz".</summary>
    public static string AttachmentName(string name, string version) => $"{name}-{version}.tgz";

    /// <summary>The publish document (everything but <c>_attachments</c>) for one version: its manifest under
    /// <c>versions</c> and the dist-tags that should point at it.</summary>
    public static JsonObject Document(string name, string version, JsonObject manifest, IEnumerable<string> tags)
    {
        var distTags = new JsonObject();
        foreach (var tag in tags) distTags[tag] = version;
        return new JsonObject
        {
            ["_id"] = name,
            ["name"] = name,
            ["description"] = manifest["description"]?.DeepClone(),
            ["dist-tags"] = distTags,
            ["versions"] = new JsonObject { [version] = manifest.DeepClone() },
            ["access"] = null,
        };
    }
}

/// <summary>
/// A publish document with the tarball base64-encoded straight from a stream into the request body, so the package
/// is never held in memory. <paramref name="onData"/> sees every tarball chunk (progress, hashing) and
/// <paramref name="beforeClose"/> may throw to abort the request before the document is complete, so a tarball
/// that fails verification is never accepted.
/// </summary>
public sealed class NpmPublishContent(
    JsonObject document, string attachmentName, Func<CancellationToken, Task<Stream>> open, long? length,
    Action<ReadOnlyMemory<byte>>? onData = null, Action? beforeClose = null) : HttpContent
{
    public long BytesSent { get; private set; }

    protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) =>
        SerializeToStreamAsync(stream, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken ct)
    {
        var head = document.ToJsonString();
        var prefix = head[..^1] + ",\"_attachments\":{" + JsonSerializer.Serialize(attachmentName)
                     + ":{\"content_type\":\"application/octet-stream\"" + (length is { } l ? ",\"length\":" + l : "") + ",\"data\":\"";
        await stream.WriteAsync(Encoding.UTF8.GetBytes(prefix), ct);
        await using var source = await open(ct);
        var buffer = new byte[3 * 32 * 1024]; // a multiple of 3: chunks encode without padding except the last
        int read;
        BytesSent = 0;
        while ((read = await source.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, ct)) > 0)
        {
            onData?.Invoke(buffer.AsMemory(0, read));
            await stream.WriteAsync(Encoding.ASCII.GetBytes(Convert.ToBase64String(buffer, 0, read)), ct);
            BytesSent += read;
        }
        beforeClose?.Invoke();
        await stream.WriteAsync("\"}}}"u8.ToArray(), ct);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
