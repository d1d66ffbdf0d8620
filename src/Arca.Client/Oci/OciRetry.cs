using System.Net;
using Polly;
using Polly.Retry;

namespace Arca.Client.Oci;

/// <summary>Retry policy for idempotent registry calls: exponential backoff with jitter, honouring 429/503 Retry-After.</summary>
public static class OciRetry
{
    public static bool IsTransient(HttpStatusCode status) =>
        status is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or HttpStatusCode.InternalServerError
            or HttpStatusCode.BadGateway or HttpStatusCode.ServiceUnavailable or HttpStatusCode.GatewayTimeout;

    /// <summary>The server's requested wait (Retry-After as seconds or a date), capped at <paramref name="max"/>.</summary>
    public static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeSpan max)
    {
        var header = response?.Headers.RetryAfter;
        if (header is null) return null;
        var wait = header.Delta ?? (header.Date is { } date ? date - DateTimeOffset.UtcNow : null);
        if (wait is null) return null;
        return wait < TimeSpan.Zero ? TimeSpan.Zero : wait > max ? max : wait;
    }

    public static ResiliencePipeline<HttpResponseMessage> ForHttp(OciClientOptions options)
    {
        if (options.MaxRetries <= 0) return ResiliencePipeline<HttpResponseMessage>.Empty;
        return new ResiliencePipelineBuilder<HttpResponseMessage>()
            .AddRetry(new RetryStrategyOptions<HttpResponseMessage>
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder<HttpResponseMessage>()
                    .Handle<HttpRequestException>()
                    .HandleResult(r => IsTransient(r.StatusCode)),
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, options.MaxRetryDelay)),
                OnRetry = args =>
                {
                    options.OnRetry?.Invoke($"retrying after {(args.Outcome.Result is { } r ? ((int)r.StatusCode).ToString() : args.Outcome.Exception?.Message)} (attempt {args.AttemptNumber + 1}, waiting {args.RetryDelay.TotalSeconds:0.#}s)");
                    args.Outcome.Result?.Dispose();
                    return default;
                },
            })
            .Build();
    }

    /// <summary>Retries a whole non-idempotent-per-request operation (e.g. re-GET + re-upload of a blob) on transient failures.</summary>
    public static ResiliencePipeline ForOperation(OciClientOptions options)
    {
        if (options.MaxRetries <= 0) return ResiliencePipeline.Empty;
        return new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryDelay,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                ShouldHandle = new PredicateBuilder()
                    .Handle<HttpRequestException>()
                    .Handle<IOException>()
                    .Handle<OciException>(e => e.Status is { } s ? IsTransient(s) : e.InnerException is HttpRequestException or IOException),
                OnRetry = args =>
                {
                    options.OnRetry?.Invoke($"retrying after {args.Outcome.Exception?.Message} (attempt {args.AttemptNumber + 1})");
                    return default;
                },
            })
            .Build();
    }
}
