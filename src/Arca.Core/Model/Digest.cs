using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Arca.Core.Model;

/// <summary>A content digest "algorithm:hex" (sha256 or sha512), as used by OCI and the blob store.</summary>
public readonly partial record struct Digest(string Algorithm, string Hex)
{
    public override string ToString() => $"{Algorithm}:{Hex}";

    [GeneratedRegex("^(sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$")]
    private static partial Regex Pattern();

    public static bool TryParse(string? value, out Digest digest)
    {
        digest = default;
        if (value is null || !Pattern().IsMatch(value)) return false;
        var i = value.IndexOf(':');
        digest = new Digest(value[..i], value[(i + 1)..]);
        return true;
    }

    public static Digest Parse(string value) =>
        TryParse(value, out var d) ? d : throw ArcaException.BadRequest($"invalid digest '{value}'", "DIGEST_INVALID");

    public static bool IsSupportedAlgorithm(string alg) => alg is "sha256" or "sha512";

    public static Digest Sha256Of(ReadOnlySpan<byte> data) => new("sha256", Convert.ToHexStringLower(SHA256.HashData(data)));

    public IncrementalHash CreateHash() => IncrementalHash.CreateHash(Algorithm == "sha512" ? HashAlgorithmName.SHA512 : HashAlgorithmName.SHA256);
}
