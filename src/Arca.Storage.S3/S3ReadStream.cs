using Amazon.S3.Model;
using Amazon.S3;
using Arca.Core.IO;

namespace Arca.Storage.S3;

/// <summary>
/// A seekable read of one object: the body is fetched lazily from the current position (a ranged GET), and a seek just
/// drops it, so HTTP Range requests served from S3 fetch only the bytes asked for.
/// </summary>
internal sealed class S3ReadStream(IAmazonS3 s3, string bucket, string key, long length) : Stream
{
    private GetObjectResponse? _response;
    private Stream? _body;
    private long _position;

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        if (_position >= length || buffer.Length == 0) return 0;
        if (_body is null)
        {
            var request = new GetObjectRequest { BucketName = bucket, Key = key };
            if (_position > 0) request.ByteRange = new ByteRange(_position, length - 1);
            _response = await s3.GetObjectAsync(request, ct);
            _body = _response.ResponseStream;
        }
        var read = await _body.ReadAsync(buffer, ct);
        if (read == 0) throw new IOException($"s3://{bucket}/{key} ended at {_position} of {length} bytes");
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken ct) => ReadAsync(buffer.AsMemory(offset, count), ct).AsTask();
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => _position + offset,
            _ => length + offset,
        };
        if (target < 0) throw new IOException("seek before the start of the object");
        if (target != _position) DropBody();
        _position = target;
        return target;
    }

    private void DropBody()
    {
        _body?.Dispose();
        _response?.Dispose();
        (_body, _response) = (null, null);
    }

    public override void Flush() { }
    public override void SetLength(long value) => throw new NotSupportedException();
    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    protected override void Dispose(bool disposing)
    {
        if (disposing) DropBody();
        base.Dispose(disposing);
    }
}

/// <summary>Reads several streams one after the other, opening each only when the previous one is done.</summary>
internal sealed class ConcatenatedStream(IEnumerable<Func<Stream>> parts) : ForwardOnlyReadStream
{
    private readonly IEnumerator<Func<Stream>> _parts = parts.GetEnumerator();
    private Stream? _current;

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken ct = default)
    {
        while (true)
        {
            if (_current is null)
            {
                if (!_parts.MoveNext()) return 0;
                _current = _parts.Current();
            }
            var read = await _current.ReadAsync(buffer, ct);
            if (read > 0) return read;
            await _current.DisposeAsync();
            _current = null;
        }
    }
    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();
    protected override void Dispose(bool disposing)
    {
        if (disposing) { _current?.Dispose(); _parts.Dispose(); }
        base.Dispose(disposing);
    }
}
