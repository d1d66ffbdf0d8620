using System.CommandLine;
using System.Text.Json;
using Arca.Client.Oci;

namespace Arca.Cli.Commands;

/// <summary>`arca image ...`: OCI image operations between any two registries (PRODUCT.md "Image copy").</summary>
public static class ImageCommands
{
    public static Command Create()
    {
        var image = new Command("image", "Work with OCI images in any registry");
        image.Subcommands.Add(CreateCopy());
        return image;
    }

    private static readonly Option<bool> AllTags = new("--all-tags") { Description = "Copy every tag of the source repository" };
    private static readonly Option<bool> Overwrite = new("--overwrite") { Description = "Replace a destination tag that names a different manifest" };
    private static readonly Option<string?> Platform = new("--platform") { Description = "Copy only this platform (os/arch[/variant]) out of a multi-arch index" };
    private static readonly Option<bool> NoReferrers = new("--no-referrers") { Description = "Do not copy referrers (signatures, SBOMs, attestations)" };
    private static readonly Option<string?> SrcCreds = new("--src-creds") { Description = "Source credentials USER:PASSWORD" };
    private static readonly Option<string?> DestCreds = new("--dest-creds") { Description = "Destination credentials USER:PASSWORD" };
    private static readonly Option<string?> SrcToken = new("--src-registry-token") { Description = "Source bearer token" };
    private static readonly Option<string?> DestToken = new("--dest-registry-token") { Description = "Destination bearer token" };
    private static readonly Option<bool> SrcInsecure = new("--src-insecure") { Description = "Allow plain HTTP / unverified TLS for the source" };
    private static readonly Option<bool> DestInsecure = new("--dest-insecure") { Description = "Allow plain HTTP / unverified TLS for the destination" };
    private static readonly Option<string?> AuthFile = new("--authfile") { Description = "Docker config.json with `auths` (default: $DOCKER_CONFIG/config.json or ~/.docker/config.json)" };
    private static readonly Option<string?> SrcAwsKey = new("--src-aws-access-key-id") { Description = "AWS access key for an ECR source" };
    private static readonly Option<string?> SrcAwsSecret = new("--src-aws-secret-access-key") { Description = "AWS secret key for an ECR source" };
    private static readonly Option<string?> SrcAwsRegion = new("--src-aws-region") { Description = "AWS region of an ECR source (default: from the host name)" };
    private static readonly Option<string?> DestAwsKey = new("--dest-aws-access-key-id") { Description = "AWS access key for an ECR destination" };
    private static readonly Option<string?> DestAwsSecret = new("--dest-aws-secret-access-key") { Description = "AWS secret key for an ECR destination" };
    private static readonly Option<string?> DestAwsRegion = new("--dest-aws-region") { Description = "AWS region of an ECR destination (default: from the host name)" };
    private static readonly Option<string?> SrcGoogleToken = new("--src-google-access-token") { Description = "OAuth2 access token for a GAR/GCR source (user oauth2accesstoken)" };
    private static readonly Option<string?> DestGoogleToken = new("--dest-google-access-token") { Description = "OAuth2 access token for a GAR/GCR destination (user oauth2accesstoken)" };
    private static readonly Option<int> Retries = new("--retries") { Description = "Retries of failed transfers (exponential backoff, honours Retry-After)", DefaultValueFactory = _ => 4 };
    private static readonly Option<int> Concurrency = new("--concurrency") { Description = "Blobs transferred in parallel", DefaultValueFactory = _ => 3 };
    private static readonly Option<string?> ChunkSize = new("--upload-chunk-size") { Description = "Upload blobs in chunks of this size (e.g. 8M); default: one streamed PUT" };

    /// <summary>Settings of one side of a copy.</summary>
    private sealed record Side(ImageReference Reference, bool Insecure, RegistryCredential? Credential, string? RegistryToken,
        AwsCredentials? Aws, string? AwsRegion, string? GoogleToken);

    private static Command CreateCopy()
    {
        var src = new Argument<string?>("source-ref") { Description = "Source image, e.g. registry.example.com/team/app:1.0 (omit both to run as a CI plugin from PLUGIN_* variables)", Arity = ArgumentArity.ZeroOrOne };
        var dest = new Argument<string?>("destination-ref") { Description = "Destination image or repository", Arity = ArgumentArity.ZeroOrOne };
        var cmd = new Command("copy", "Copy an image (whole index, referrers, digests kept) or a repository between OCI registries")
        {
            src, dest, AllTags, Overwrite, Platform, NoReferrers, SrcCreds, DestCreds, SrcToken, DestToken, SrcInsecure, DestInsecure,
            AuthFile, SrcAwsKey, SrcAwsSecret, SrcAwsRegion, DestAwsKey, DestAwsSecret, DestAwsRegion, SrcGoogleToken, DestGoogleToken,
            Retries, Concurrency, ChunkSize,
        };
        cmd.SetAction(Run.Action(async (parse, ctx, ct) =>
        {
            var (source, destination, overwrite) = parse.GetValue(src) is null && parse.GetValue(dest) is null
                ? FromPluginEnvironment()
                : FromFlags(parse, parse.GetValue(src), parse.GetValue(dest));
            return await CopyAsync(parse, ctx, source, destination, overwrite || parse.GetValue(Overwrite), ct);
        }));
        return cmd;
    }

    private static ImageReference ParseRef(string value, string what) =>
        ImageReference.TryParse(value, out var r, out var error) ? r : throw new CliUsageException($"{what}: {error}");

    private static AwsCredentials? Aws(string? key, string? secret, string what)
    {
        if (key is null && secret is null) return null;
        if (string.IsNullOrEmpty(key) || string.IsNullOrEmpty(secret))
            throw new CliUsageException($"{what}: both the AWS access key id and the secret access key are needed");
        return new AwsCredentials(key, secret, Environment.GetEnvironmentVariable("AWS_SESSION_TOKEN") is { Length: > 0 } s ? s : null);
    }

    private static RegistryCredential? Creds(string? value, string what)
    {
        if (value is null) return null;
        try { return RegistryCredential.ParseUserPassword(value); }
        catch (FormatException e) { throw new CliUsageException($"{what}: {e.Message}"); }
    }

    private static (Side, Side, bool) FromFlags(ParseResult parse, string? srcRef, string? destRef)
    {
        if (srcRef is null || destRef is null) throw new CliUsageException("both source-ref and destination-ref are needed (or neither, for CI plugin mode)");
        var source = new Side(ParseRef(srcRef, "source"), parse.GetValue(SrcInsecure), Creds(parse.GetValue(SrcCreds), "--src-creds"),
            parse.GetValue(SrcToken), Aws(parse.GetValue(SrcAwsKey), parse.GetValue(SrcAwsSecret), "source"), parse.GetValue(SrcAwsRegion),
            parse.GetValue(SrcGoogleToken));
        var destination = new Side(ParseRef(destRef, "destination"), parse.GetValue(DestInsecure), Creds(parse.GetValue(DestCreds), "--dest-creds"),
            parse.GetValue(DestToken), Aws(parse.GetValue(DestAwsKey), parse.GetValue(DestAwsSecret), "destination"), parse.GetValue(DestAwsRegion),
            parse.GetValue(DestGoogleToken));
        return (source, destination, false);
    }

    /// <summary>
    /// CI plugin mode (the drone image-migration plugin's settings): PLUGIN_USERNAME/PASSWORD are the destination's
    /// credentials, PLUGIN_SOURCE_USERNAME/PASSWORD the source's, PLUGIN_INSECURE applies to both sides, and the AWS
    /// key pair is used for whichever side is an ECR registry.
    /// </summary>
    private static (Side, Side, bool) FromPluginEnvironment()
    {
        static string? Env(string name) => Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : null;
        static bool Flag(string name) => Env(name)?.Trim().ToLowerInvariant() is "true" or "1" or "yes" or "on";
        static RegistryCredential? Pair(string userVar, string passwordVar) =>
            Env(userVar) is { } user ? new RegistryCredential(user, Env(passwordVar) ?? "")
            : Env(passwordVar) is { } password ? new RegistryCredential("token", password) : null;

        var sourceRef = Env("PLUGIN_SOURCE") ?? throw new CliUsageException("no source: pass SOURCE and DESTINATION, or set PLUGIN_SOURCE and PLUGIN_DESTINATION (CI plugin mode)");
        var destRef = Env("PLUGIN_DESTINATION") ?? throw new CliUsageException("PLUGIN_SOURCE is set but PLUGIN_DESTINATION is not");
        var insecure = Flag("PLUGIN_INSECURE");
        var aws = Aws(Env("PLUGIN_AWS_ACCESS_KEY_ID"), Env("PLUGIN_AWS_SECRET_ACCESS_KEY"), "PLUGIN_AWS_*");
        var region = Env("PLUGIN_AWS_REGION");
        var source = ParseRef(sourceRef, "PLUGIN_SOURCE");
        var destination = ParseRef(destRef, "PLUGIN_DESTINATION");
        return (
            new Side(source, insecure, Pair("PLUGIN_SOURCE_USERNAME", "PLUGIN_SOURCE_PASSWORD"), null,
                EcrCredentialProvider.IsEcrHost(source.Registry) ? aws : null, region, null),
            new Side(destination, insecure, Pair("PLUGIN_USERNAME", "PLUGIN_PASSWORD"), null,
                EcrCredentialProvider.IsEcrHost(destination.Registry) ? aws : null, region, null),
            Flag("PLUGIN_OVERWRITE"));
    }

    /// <summary>Explicit credentials win, then tokens, then ECR, then the docker config file.</summary>
    private static IRegistryCredentialProvider Credentials(Side side, DockerConfigCredentialProvider? authFile, HttpClient awsHttp)
    {
        var providers = new List<IRegistryCredentialProvider>();
        if (side.Credential is not null) providers.Add(new StaticCredentialProvider(side.Credential));
        if (side.RegistryToken is not null) providers.Add(new StaticCredentialProvider(new RegistryCredential(null, null, BearerToken: side.RegistryToken)));
        if (side.GoogleToken is not null) providers.Add(new StaticCredentialProvider(RegistryCredential.ForGoogleAccessToken(side.GoogleToken)));
        if (side.Aws is not null)
        {
            var region = side.AwsRegion ?? EcrCredentialProvider.RegionOf(side.Reference.Registry)
                         ?? throw new CliUsageException($"{side.Reference.Registry} is not an ECR host name: give the AWS region");
            providers.Add(new EcrCredentialProvider(new EcrAuthorizationClient(awsHttp), side.Aws, region));
        }
        if (authFile is not null) providers.Add(authFile);
        return new ChainedCredentialProvider([.. providers]);
    }

    private static async Task<int> CopyAsync(ParseResult parse, CommandContext ctx, Side source, Side destination, bool overwrite, CancellationToken ct)
    {
        var output = ctx.Output;
        var authFilePath = parse.GetValue(AuthFile) ?? DockerConfigCredentialProvider.DefaultPath();
        DockerConfigCredentialProvider? authFile;
        try { authFile = authFilePath is null ? null : DockerConfigCredentialProvider.Load(authFilePath); }
        catch (Exception e) when (e is JsonException or FormatException) { throw new CliUsageException($"--authfile {authFilePath}: {e.Message}"); }
        catch (FileNotFoundException) { throw new CliUsageException($"--authfile {authFilePath}: file not found"); }

        int? chunk = parse.GetValue(ChunkSize) is { } c ? (int)Math.Min(Sizes.ParseOrNull(c) ?? 0, int.MaxValue) : null;
        OciPlatform? platform;
        try { platform = parse.GetValue(Platform) is { } p ? OciPlatform.Parse(p) : null; }
        catch (FormatException e) { throw new CliUsageException(e.Message); }
        var allTags = parse.GetValue(AllTags);
        if (allTags && (source.Reference.Digest is not null || destination.Reference.Reference is not null))
            throw new CliUsageException("--all-tags takes repositories without tag or digest");

        using var awsHttp = new HttpClient();
        OciClientOptions Options(Side side) => new()
        {
            Insecure = side.Insecure,
            Credentials = Credentials(side, authFile, awsHttp),
            MaxRetries = parse.GetValue(Retries),
            UploadChunkSize = chunk,
            OnRetry = output.Debug,
        };
        using var sourceClient = new OciRegistryClient(source.Reference.Registry, Options(source));
        using var destClient = new OciRegistryClient(destination.Reference.Registry, Options(destination));

        try
        {
            var summary = await output.ProgressAsync(async progress =>
            {
                var copier = new ImageCopier(sourceClient, destClient, new ImageCopyOptions
                {
                    Platform = platform,
                    IncludeReferrers = !parse.GetValue(NoReferrers),
                    Overwrite = overwrite,
                    Concurrency = Math.Max(1, parse.GetValue(Concurrency)),
                    StartProgress = (description, total) => progress.Start(description, total),
                    Log = output.Debug,
                });
                return allTags
                    ? await copier.CopyAllTagsAsync(source.Reference, destination.Reference, ct)
                    : await copier.CopyAsync(source.Reference, destination.Reference, ct);
            });
            var json = JsonSerializer.SerializeToElement(summary);
            if (output.IsTable)
            {
                foreach (var img in summary.Images) output.Info($"{img.Status}: {img.Destination} ({img.Digest})");
                output.Info($"manifests: {summary.ManifestsCopied} copied, {summary.ManifestsSkipped} skipped; " +
                            $"blobs: {summary.BlobsCopied} copied, {summary.BlobsMounted} mounted, {summary.BlobsSkipped} skipped; " +
                            $"referrers: {summary.ReferrersCopied} copied, {summary.ReferrersSkipped} skipped; {summary.BytesCopied} bytes transferred");
            }
            else output.Print(json);
            return 0;
        }
        catch (OciException e)
        {
            Console.Error.WriteLine($"error: {e.Message}");
            if (output.Verbose) Console.Error.WriteLine(e);
            return e.Status is System.Net.HttpStatusCode.Unauthorized or System.Net.HttpStatusCode.Forbidden ? 3 : 1;
        }
    }
}
