using System.Text.Json;
using Arca.Core.Model;
using Arca.Server.Hosting;

namespace Arca.Server.Formats.Oci;

/// <summary>The error codes of the OCI distribution spec and how Arca's own errors translate into them.</summary>
public static class OciErrors
{
    /// <summary>HttpContext item set when a registry token lacks the scope a request needs.</summary>
    public const string InsufficientScopeKey = "oci.insufficient_scope";

    public static ArcaException BlobUnknown(string digest) => new(404, "BLOB_UNKNOWN", $"blob {digest} is unknown to this repository");
    public static ArcaException BlobUploadUnknown(string id) => new(404, "BLOB_UPLOAD_UNKNOWN", $"upload {id} is unknown or has expired");
    public static ArcaException BlobUploadInvalid(string message, int status = 400) => new(status, "BLOB_UPLOAD_INVALID", message);
    public static ArcaException DigestInvalid(string message) => new(400, "DIGEST_INVALID", message);
    public static ArcaException ManifestBlobUnknown(string digest) => new(400, "MANIFEST_BLOB_UNKNOWN", $"manifest references {digest}, which is unknown to this repository");
    public static ArcaException ManifestInvalid(string message, int status = 400) => new(status, "MANIFEST_INVALID", message);
    public static ArcaException ManifestUnknown(string reference) => new(404, "MANIFEST_UNKNOWN", $"manifest {reference} is unknown to this repository");
    public static ArcaException NameInvalid(string message) => new(400, "NAME_INVALID", message);
    public static ArcaException NameUnknown(string name) => new(404, "NAME_UNKNOWN", $"repository {name} is not known to this registry");
    public static ArcaException SizeInvalid(string message) => new(400, "SIZE_INVALID", message);
    public static ArcaException Unsupported(string message, int status = 400) => new(status, "UNSUPPORTED", message);

    private static readonly HashSet<string> SpecCodes =
    [
        "BLOB_UNKNOWN", "BLOB_UPLOAD_INVALID", "BLOB_UPLOAD_UNKNOWN", "DIGEST_INVALID", "MANIFEST_BLOB_UNKNOWN",
        "MANIFEST_INVALID", "MANIFEST_UNKNOWN", "NAME_INVALID", "NAME_UNKNOWN", "SIZE_INVALID", "UNAUTHORIZED",
        "DENIED", "UNSUPPORTED", "TOOMANYREQUESTS",
    ];

    /// <summary>Translates an error raised by shared code (access control, blob store, validation) into the spec's codes.</summary>
    public static (int Status, string Code) Translate(ArcaException e)
    {
        if (SpecCodes.Contains(e.Code)) return (e.Status, e.Code);
        return e.Code switch
        {
            "FORBIDDEN" => (403, "DENIED"),
            "REGISTRY_NOT_FOUND" or "WRONG_PACKAGE_TYPE" => (404, "NAME_UNKNOWN"),
            "INVALID_IDENTIFIER" or "INVALID_PATH" => (400, "NAME_INVALID"),
            "TOO_LARGE" => (413, "SIZE_INVALID"),
            _ => e.Status switch
            {
                401 => (401, "UNAUTHORIZED"),
                403 => (403, "DENIED"),
                404 => (404, "NAME_UNKNOWN"),
                405 => (405, "UNSUPPORTED"),
                >= 500 => (e.Status, "UNKNOWN"),
                _ => (e.Status, "UNSUPPORTED"),
            },
        };
    }

    /// <summary>Writes <c>{"errors":[{"code","message","detail"}]}</c>; a 401 carries the Bearer challenge for the request.</summary>
    public static async Task WriteAsync(HttpContext ctx, ArcaException error)
    {
        if (ctx.Response.HasStarted) { ctx.Abort(); return; }
        var (status, code) = Translate(error);
        // A 416 tells the client where the upload stands (Location, Range), so those headers survive the reset.
        var kept = status == 416
            ? new[] { "Location", "Range", "Docker-Upload-UUID" }.Where(h => ctx.Response.Headers.ContainsKey(h))
                .ToDictionary(h => h, h => ctx.Response.Headers[h])
            : [];
        ctx.Response.Clear();
        foreach (var (name, value) in kept) ctx.Response.Headers[name] = value;
        ctx.Response.StatusCode = status;
        ctx.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        if (status == 401) ctx.Response.Headers.WWWAuthenticate = Challenge(ctx);
        ctx.Response.ContentType = "application/json; charset=utf-8";
        if (HttpMethods.IsHead(ctx.Request.Method)) return;
        await JsonSerializer.SerializeAsync(ctx.Response.Body,
            new { errors = new[] { new { code, message = error.Message, detail = new { } } } });
    }

    /// <summary>The Docker token-flow challenge: realm is this server's token endpoint, scope what the request needs.</summary>
    public static string Challenge(HttpContext ctx)
    {
        var options = ctx.RequestServices.GetRequiredService<ServerOptions>();
        var challenge = $"Bearer realm=\"{OciModule.BaseUrl(ctx, options)}/v2/token\",service=\"{ctx.Request.Host}\"";
        var path = ctx.Request.Path.Value ?? "";
        if (path.StartsWith("/v2/_catalog", StringComparison.Ordinal)) return challenge + ",scope=\"registry:catalog:*\"";
        if (OciPath.TryParse(path, out var route) && route.Name is { } name)
        {
            var actions = HttpMethods.IsGet(ctx.Request.Method) || HttpMethods.IsHead(ctx.Request.Method) ? "pull"
                : HttpMethods.IsDelete(ctx.Request.Method) && route.Kind != OciRouteKind.Upload ? "delete" : "pull,push";
            challenge += $",scope=\"repository:{name}:{actions}\"";
        }
        if (ctx.Items.ContainsKey(InsufficientScopeKey)) challenge += ",error=\"insufficient_scope\"";
        return challenge;
    }
}
