using System.Text;
using Arca.Server.Formats.PyPI;

namespace Arca.Tests.Unit;

/// <summary>Expected values from Python's hashlib.blake2b(data, digest_size=32).</summary>
public sealed class Blake2bTests
{
    private static string Hash(byte[] data, int chunk)
    {
        var h = new Blake2b(32);
        for (var i = 0; i < data.Length; i += chunk) h.Append(data.AsSpan(i, Math.Min(chunk, data.Length - i)));
        return Convert.ToHexStringLower(h.Finish());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(128)]
    [InlineData(4096)]
    public void Matches_reference_vectors(int chunk)
    {
        Assert.Equal("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8", Hash([], chunk));
        Assert.Equal("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319", Hash(Encoding.ASCII.GetBytes("abc"), chunk));
        Assert.Equal("378d0caaaa3855f1b38693c1d6ef004fd118691c95c959d4efa950d6d6fcf7c1", Hash(new byte[128], chunk));
        var data = Enumerable.Repeat(Enumerable.Range(0, 256).Select(i => (byte)i), 5).SelectMany(x => x).ToArray();
        Assert.Equal("82628cbfc9689e234b0923a531f4578fe2e7138a03e2f81ed6cde97517336650", Hash(data, chunk));
    }
}
