namespace Arca.Core.Auth;

/// <summary>Who is calling: anonymous, or the holder of an API token.</summary>
public sealed record Principal(ApiToken? Token)
{
    public static readonly Principal Anonymous = new((ApiToken?)null);
    public bool IsAuthenticated => Token is not null;
    /// <summary>For logs: the API token's name, also behind a narrowed token.</summary>
    public string Name => Token?.Name ?? Scoped?.Holder?.Name ?? "anonymous";

    /// <summary>Set for a short-lived token a format issued for a narrower scope (e.g. an OCI registry token).
    /// Such a caller has no <see cref="Token"/>, so shared access control treats it as anonymous; only the format
    /// that issued it maps its grants back to the API token it came from.</summary>
    public ScopedAccess? Scoped { get; init; }

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

/// <summary>The grants of a narrowed token and the API token (null: anonymous) whose rights they were cut from.</summary>
public sealed record ScopedAccess(ApiToken? Holder, IReadOnlyList<ScopedGrant> Grants)
{
    /// <summary>The caller's rights for one resource: the holder's when the grant covers the action, else anonymous.</summary>
    public Principal For(string type, string name, string action) =>
        Grants.Any(g => g.Type == type && g.Name == name && (g.Actions.Contains(action) || g.Actions.Contains("*")))
            ? new Principal(Holder) : Principal.Anonymous;
}

public sealed record ScopedGrant(string Type, string Name, IReadOnlyList<string> Actions);
