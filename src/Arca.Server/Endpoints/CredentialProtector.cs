using System.Security.Cryptography;
using System.Text;
using Arca.Server.Hosting;

namespace Arca.Server.Endpoints;

/// <summary>
/// Encrypts endpoint secrets at rest with AES-256-GCM under a server key kept in <c>&lt;data&gt;/endpoint-key</c>
/// (mode 0600, created on first use). The ciphertext is bound to the endpoint's name and URL (associated data), so a
/// secret copied to another row, or a URL edited directly in the database, no longer decrypts: stored credentials can
/// only ever be sent to the URL they were entered for.
/// </summary>
public sealed class CredentialProtector
{
    public const string KeyFileName = "endpoint-key";
    private const string Version = "v1";
    private const int NonceSize = 12, TagSize = 16, KeySize = 32;
    private readonly Lazy<byte[]> _key;

    public CredentialProtector(ServerOptions options)
    {
        var path = Path.Combine(options.DataDirectory, KeyFileName);
        _key = new Lazy<byte[]>(() => LoadOrCreateKey(path), LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public string Protect(string secret, string endpointName, string url)
    {
        var plain = Encoding.UTF8.GetBytes(secret);
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var cipher = new byte[plain.Length];
        var tag = new byte[TagSize];
        using (var aes = new AesGcm(_key.Value, TagSize))
            aes.Encrypt(nonce, plain, cipher, tag, AssociatedData(endpointName, url));
        CryptographicOperations.ZeroMemory(plain);
        return $"{Version}:{Convert.ToBase64String([.. nonce, .. tag, .. cipher])}";
    }

    /// <summary>The clear secret, or null when it cannot be decrypted (other key, other name/URL, corrupt value).</summary>
    public string? TryUnprotect(string stored, string endpointName, string url)
    {
        if (!stored.StartsWith(Version + ":", StringComparison.Ordinal)) return null;
        byte[] data;
        try { data = Convert.FromBase64String(stored[(Version.Length + 1)..]); }
        catch (FormatException) { return null; }
        if (data.Length < NonceSize + TagSize) return null;
        var nonce = data.AsSpan(0, NonceSize);
        var tag = data.AsSpan(NonceSize, TagSize);
        var cipher = data.AsSpan(NonceSize + TagSize);
        var plain = new byte[cipher.Length];
        try
        {
            using var aes = new AesGcm(_key.Value, TagSize);
            aes.Decrypt(nonce, cipher, tag, plain, AssociatedData(endpointName, url));
            return Encoding.UTF8.GetString(plain);
        }
        catch (AuthenticationTagMismatchException) { return null; }
        finally { CryptographicOperations.ZeroMemory(plain); }
    }

    private static byte[] AssociatedData(string endpointName, string url) => Encoding.UTF8.GetBytes($"arca-endpoint\n{endpointName}\n{url}");

    /// <summary>Content of a new key file: 32 random bytes, base64.</summary>
    public static byte[] NewKeyFileContent() => Encoding.ASCII.GetBytes(Convert.ToBase64String(RandomNumberGenerator.GetBytes(KeySize)));

    private static byte[] LoadOrCreateKey(string path)
    {
        if (!File.Exists(path))
        {
            // Write to a private temp file, then move it into place without overwriting: when two instances race,
            // both end up reading the one key that won.
            var tmp = $"{path}.{Guid.NewGuid():N}.tmp";
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var fs = new FileStream(tmp, options))
            {
                fs.Write(NewKeyFileContent());
                fs.Flush(flushToDisk: true);
            }
            try { File.Move(tmp, path, overwrite: false); }
            catch (IOException) when (File.Exists(path)) { File.Delete(tmp); }
        }
        byte[] key;
        try { key = Convert.FromBase64String(File.ReadAllText(path).Trim()); }
        catch (FormatException) { key = []; }
        if (key.Length != KeySize)
            throw new InvalidOperationException($"{path} is not a valid endpoint key (expected {KeySize} random bytes, base64)");
        return key;
    }
}
