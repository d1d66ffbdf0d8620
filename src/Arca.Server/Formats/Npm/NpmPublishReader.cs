using System.Buffers;
using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Arca.Core.Model;

namespace Arca.Server.Formats.Npm;

/// <summary>The tarball of an npm publish, decoded out of the JSON body into a temporary file (deleted on dispose),
/// with the digests npm declares for it.</summary>
public sealed class NpmAttachment : IAsyncDisposable
{
    public required string Name { get; init; }
    public required FileStream File { get; init; }
    public long Length { get; init; }
    public required byte[] Sha512 { get; init; }
    public required string Sha1Hex { get; init; }

    public Stream OpenRead()
    {
        File.Position = 0;
        return new NonClosingStream(File);
    }

    public ValueTask DisposeAsync() => File.DisposeAsync();

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => inner.CanSeek;
        public override bool CanWrite => false;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => inner.Position = value; }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default) => inner.ReadAsync(buffer, ct);
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => inner.ReadAsync(buffer, offset, count, ct);
        public override long Seek(long offset, SeekOrigin origin) => inner.Seek(offset, origin);
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}

/// <summary>
/// Reads an npm publish document without holding the package in memory: a byte-level scan of the JSON copies
/// everything into a small metadata document except the value of <c>_attachments.&lt;file&gt;.data</c>, whose
/// base64 is decoded on the fly into a temporary file while SHA-512 and SHA-1 are computed. The metadata
/// (manifest, dist-tags, readme) is then parsed normally, with <c>data</c> left as an empty string.
/// </summary>
public sealed class NpmPublishReader
{
    private readonly long _maxMetadataBytes;
    private readonly long _maxAttachmentBytes;

    public NpmPublishReader(long maxMetadataBytes, long maxAttachmentBytes)
    {
        _maxMetadataBytes = maxMetadataBytes;
        _maxAttachmentBytes = maxAttachmentBytes;
    }

    private sealed class Frame(bool isObject)
    {
        public bool IsObject { get; } = isObject;
        public string? Key { get; set; }
        public bool AfterColon { get; set; }
    }

    private readonly MemoryStream _metadata = new();
    private readonly List<Frame> _stack = [];
    private bool _inString, _escaped, _stringIsKey, _inData;
    private readonly StringBuilder _key = new();
    private int _unicodeDigits;
    private readonly StringBuilder _unicode = new();

    // Attachment decoding state: base64 text is collected in whole quads and decoded in blocks.
    private string? _attachmentName;
    private FileStream? _file;
    private IncrementalHash? _sha512, _sha1;
    private readonly byte[] _base64 = new byte[64 * 1024]; // a multiple of 4
    private readonly byte[] _binary = new byte[48 * 1024];
    private int _base64Count;
    private long _decoded;
    private bool _padded;

    public async Task<(JsonObject Document, NpmAttachment? Attachment)> ReadAsync(Stream body, CancellationToken ct)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await body.ReadAsync(buffer.AsMemory(0, 64 * 1024), ct)) > 0)
                await ScanAsync(buffer.AsMemory(0, read), ct);
            if (_inString || _stack.Count != 0) throw ArcaException.BadRequest("the publish document is truncated", "INVALID_BODY");
            if (_metadata.Length == 0) throw ArcaException.BadRequest("the request body is empty", "INVALID_BODY");
            JsonObject document;
            try
            {
                document = NpmNames.ParseClientJson(_metadata.GetBuffer().AsSpan(0, (int)_metadata.Length)) as JsonObject
                           ?? throw ArcaException.BadRequest("the body must be a JSON object (a packument)", "INVALID_BODY");
            }
            catch (JsonException e) { throw ArcaException.BadRequest($"the body is not valid JSON: {e.Message}", "INVALID_BODY"); }

            NpmAttachment? attachment = null;
            if (_file is not null)
            {
                await _file.FlushAsync(ct);
                attachment = new NpmAttachment
                {
                    Name = _attachmentName!, File = _file, Length = _decoded,
                    Sha512 = _sha512!.GetHashAndReset(), Sha1Hex = Convert.ToHexStringLower(_sha1!.GetHashAndReset()),
                };
                _file = null;
            }
            return (document, attachment);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            _sha512?.Dispose();
            _sha1?.Dispose();
            if (_file is not null) await _file.DisposeAsync();
        }
    }

    private async Task ScanAsync(ReadOnlyMemory<byte> chunk, CancellationToken ct)
    {
        var start = _inData ? chunk.Length : 0; // start of the run of bytes to copy into the metadata document
        for (var i = 0; i < chunk.Length; i++)
        {
            var b = chunk.Span[i];
            if (_inData)
            {
                if (_unicodeDigits > 0)
                {
                    _unicode.Append((char)b);
                    if (--_unicodeDigits == 0)
                    {
                        if (!int.TryParse(_unicode.ToString(), System.Globalization.NumberStyles.HexNumber, null, out var code) || code > 127)
                            throw InvalidBase64();
                        if (PushBase64((byte)code)) await FlushBase64Async(ct);
                    }
                    continue;
                }
                if (_escaped)
                {
                    _escaped = false;
                    if (b == (byte)'u') { _unicodeDigits = 4; _unicode.Clear(); }
                    else if (b == (byte)'/' && PushBase64(b)) await FlushBase64Async(ct);
                    // \n, \r, \t: line breaks some encoders put into base64; ignored
                    continue;
                }
                if (b == (byte)'\\') { _escaped = true; continue; }
                if (b == (byte)'"')
                {
                    await FlushBase64Async(ct);
                    _inData = false;
                    _inString = false;
                    ValueDone();
                    start = i; // the closing quote is copied with what follows
                    continue;
                }
                if (PushBase64(b)) await FlushBase64Async(ct);
                continue;
            }

            if (_inString)
            {
                if (_escaped) { _escaped = false; if (_stringIsKey) _key.Append((char)b); continue; }
                if (b == (byte)'\\') { _escaped = true; continue; }
                if (b == (byte)'"')
                {
                    _inString = false;
                    if (_stringIsKey) { if (_stack.Count > 0) _stack[^1].Key = _key.ToString(); }
                    else ValueDone();
                    continue;
                }
                if (_stringIsKey && _key.Length < 1024) _key.Append((char)b);
                continue;
            }

            switch (b)
            {
                case (byte)'{': _stack.Add(new Frame(true)); break;
                case (byte)'[': _stack.Add(new Frame(false)); break;
                case (byte)'}' or (byte)']':
                    if (_stack.Count == 0) throw ArcaException.BadRequest("the body is not valid JSON", "INVALID_BODY");
                    _stack.RemoveAt(_stack.Count - 1);
                    ValueDone();
                    break;
                case (byte)':': if (_stack.Count > 0) _stack[^1].AfterColon = true; break;
                case (byte)',': if (_stack.Count > 0) _stack[^1].AfterColon = false; break;
                case (byte)'"':
                    _inString = true;
                    _stringIsKey = _stack.Count > 0 && _stack[^1].IsObject && !_stack[^1].AfterColon;
                    _key.Clear();
                    if (!_stringIsKey && IsAttachmentData())
                    {
                        // Copy up to and including the opening quote; the base64 itself goes to the file.
                        Append(chunk.Span[start..(i + 1)]);
                        start = chunk.Length; // nothing more to copy from this chunk until the data ends
                        StartData();
                        _inData = true;
                    }
                    break;
            }
        }
        if (start < chunk.Length) Append(chunk.Span[start..]);
    }

    private bool IsAttachmentData() =>
        _stack.Count == 3 && _stack.TrueForAll(f => f.IsObject) && _stack[0].Key == "_attachments" && _stack[2].Key == "data";

    private void ValueDone()
    {
        if (_stack.Count > 0 && _stack[^1].IsObject) _stack[^1].AfterColon = false;
    }

    private void Append(byte b) => Append([b]);

    private void Append(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length == 0) return;
        if (_metadata.Length + bytes.Length > _maxMetadataBytes)
            throw ArcaException.TooLarge($"the publish document (without the tarball) is larger than {_maxMetadataBytes} bytes");
        _metadata.Write(bytes);
    }

    private void StartData()
    {
        if (_file is not null) throw ArcaException.BadRequest("a publish must contain exactly one attachment (the tarball)", "INVALID_BODY");
        _attachmentName = _stack[1].Key;
        _file = new FileStream(Path.Combine(Path.GetTempPath(), $"arca-npm-{Guid.NewGuid():N}.tgz"), FileMode.CreateNew, FileAccess.ReadWrite,
            FileShare.None, 1 << 16, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        _sha512 = IncrementalHash.CreateHash(HashAlgorithmName.SHA512);
        _sha1 = IncrementalHash.CreateHash(HashAlgorithmName.SHA1);
        _base64Count = 0;
        _decoded = 0;
        _padded = false;
    }

    private static ArcaException InvalidBase64() => ArcaException.BadRequest("the attachment data is not valid base64", "INVALID_TARBALL");

    /// <summary>Adds one base64 character; true when the block is full and must be decoded.</summary>
    private bool PushBase64(byte c)
    {
        if (c is (byte)' ' or (byte)'\n' or (byte)'\r' or (byte)'\t') return false;
        if (_padded && c != (byte)'=') throw InvalidBase64(); // nothing may follow the padding
        if (c == (byte)'=') _padded = true;
        _base64[_base64Count++] = c;
        return _base64Count == _base64.Length;
    }

    private async Task FlushBase64Async(CancellationToken ct)
    {
        if (_base64Count == 0) return;
        if (_base64Count % 4 != 0) throw ArcaException.BadRequest("the attachment data is not valid base64 (truncated)", "INVALID_TARBALL");
        if (Base64.DecodeFromUtf8(_base64.AsSpan(0, _base64Count), _binary, out _, out var written) != OperationStatus.Done) throw InvalidBase64();
        _base64Count = 0;
        _decoded += written;
        if (_decoded > _maxAttachmentBytes) throw ArcaException.TooLarge($"the tarball is larger than {_maxAttachmentBytes} bytes");
        _sha512!.AppendData(_binary, 0, written);
        _sha1!.AppendData(_binary, 0, written);
        await _file!.WriteAsync(_binary.AsMemory(0, written), ct);
    }
}
