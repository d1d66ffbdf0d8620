using System.Net;

namespace Arca.Client.Oci;

/// <summary>An error from an OCI registry (with its HTTP status and OCI error code when it answered one).</summary>
public class OciException(string message, HttpStatusCode? status = null, string? code = null, Exception? inner = null)
    : Exception(message, inner)
{
    public HttpStatusCode? Status { get; } = status;
    public string? Code { get; } = code;
}

/// <summary>The destination tag points at a different manifest and overwriting was not allowed.</summary>
public sealed class OciTagConflictException(string message) : OciException(message, HttpStatusCode.Conflict, "TAG_CONFLICT");
