namespace Arca.Storage.S3;

/// <summary>
/// Where blobs go: <c>s3://bucket[/prefix]?endpoint=URL&amp;region=R&amp;pathStyle=true|false&amp;partSizeMiB=N</c>.
/// Without <c>endpoint</c> it is AWS S3 in <c>region</c> (default AWS_REGION, else us-east-1) with virtual-host
/// addressing; with one (MinIO, Ceph, s3rver, ...) path-style addressing is the default. Credentials come from the
/// AWS SDK's usual chain (AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, profile, instance role), never from the URI.
/// </summary>
public sealed record S3BlobStoreOptions
{
    public required string Bucket { get; init; }
    /// <summary>Key prefix ending in '/' (or empty): several installations can share a bucket.</summary>
    public string Prefix { get; init; } = "";
    public string? ServiceUrl { get; init; }
    public string Region { get; init; } = "us-east-1";
    public bool ForcePathStyle { get; init; }
    /// <summary>Multipart part size: the memory one write holds (two parts: one uploading, one filling). S3's minimum is 5 MiB.</summary>
    public int PartSize { get; init; } = 8 * 1024 * 1024;

    public static S3BlobStoreOptions Parse(string uri)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var u) || u.Scheme != "s3" || string.IsNullOrEmpty(u.Host))
            throw new FormatException($"blob store '{uri}': expected s3://bucket[/prefix]?endpoint=URL&region=R");
        var query = (u.Query.TrimStart('?')).Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0]), p => p.Length > 1 ? Uri.UnescapeDataString(p[1]) : "", StringComparer.OrdinalIgnoreCase);
        foreach (var name in query.Keys)
            if (name is not ("endpoint" or "region" or "pathStyle" or "partSizeMiB"))
                throw new FormatException($"blob store '{uri}': unknown parameter '{name}' (known: endpoint, region, pathStyle, partSizeMiB)");
        string? endpoint = query.TryGetValue("endpoint", out var e) && e.Length > 0 ? e : null;
        if (endpoint is not null && (!Uri.TryCreate(endpoint, UriKind.Absolute, out var eu) || eu.Scheme is not ("http" or "https")))
            throw new FormatException($"blob store '{uri}': endpoint must be an http(s) URL");
        var pathStyle = endpoint is not null;
        if (query.TryGetValue("pathStyle", out var ps) && !bool.TryParse(ps, out pathStyle))
            throw new FormatException($"blob store '{uri}': pathStyle must be true or false");
        var partSize = 8;
        if (query.TryGetValue("partSizeMiB", out var pm) && (!int.TryParse(pm, out partSize) || partSize < 5 || partSize > 1024))
            throw new FormatException($"blob store '{uri}': partSizeMiB must be a number from 5 to 1024");
        var prefix = Uri.UnescapeDataString(u.AbsolutePath).Trim('/');
        if (prefix.Split('/').Any(s => s is "." or ".."))
            throw new FormatException($"blob store '{uri}': the prefix must not contain '.' or '..' segments");
        return new S3BlobStoreOptions
        {
            Bucket = u.Host,
            Prefix = prefix.Length == 0 ? "" : prefix + "/",
            ServiceUrl = endpoint,
            Region = query.TryGetValue("region", out var r) && r.Length > 0 ? r
                : Environment.GetEnvironmentVariable("AWS_REGION") is { Length: > 0 } envRegion ? envRegion : "us-east-1",
            ForcePathStyle = pathStyle,
            PartSize = partSize * 1024 * 1024,
        };
    }
}
