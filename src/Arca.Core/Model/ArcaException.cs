namespace Arca.Core.Model;

/// <summary>
/// An error meant for the client: carries the HTTP status and a stable machine-readable code.
/// Format modules translate it into their protocol's own error shape.
/// </summary>
public class ArcaException(int status, string code, string message) : Exception(message)
{
    public int Status { get; } = status;
    public string Code { get; } = code;

    public static ArcaException BadRequest(string message, string code = "BAD_REQUEST") => new(400, code, message);
    public static ArcaException NotFound(string message, string code = "NOT_FOUND") => new(404, code, message);
    public static ArcaException Conflict(string message, string code = "CONFLICT") => new(409, code, message);
    public static ArcaException Unauthorized(string message = "authentication required") => new(401, "UNAUTHORIZED", message);
    public static ArcaException Forbidden(string message) => new(403, "FORBIDDEN", message);
    public static ArcaException TooLarge(string message) => new(413, "TOO_LARGE", message);
}
