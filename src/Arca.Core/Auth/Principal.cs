namespace Arca.Core.Auth;

/// <summary>Who is calling: anonymous, or the holder of an API token.</summary>
public sealed record Principal(ApiToken? Token)
{
    public static readonly Principal Anonymous = new((ApiToken?)null);
    public bool IsAuthenticated => Token is not null;
    public string Name => Token?.Name ?? "anonymous";

    /// <summary>True when the token grants <paramref name="needed"/> on the registry (or server-wide when null).</summary>
    public bool Has(TokenScope needed, long? registryId)
    {
        if (Token is null) return false;
        if (Token.Scope < needed) return false;
        if (Token.RegistryId is null) return true;
        return registryId is not null && Token.RegistryId == registryId;
    }

    public bool IsServerAdmin => Token is { Scope: TokenScope.Admin, RegistryId: null };
}
