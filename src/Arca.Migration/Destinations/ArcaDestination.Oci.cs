using Arca.Client.Oci;
using Arca.Migration.Sources;

namespace Arca.Migration.Destinations;

public sealed partial class ArcaDestination
{
    private OciClientPool? _ociClients;
    private OciImageWriter? _ociWriter;

    /// <summary>One writer (one OCI client, one token cache, one blob-mount map) for every DOCKER/HELM item of the run.
    /// Credentials: Basic with the Arca token as password, sent up front (Arca takes API tokens directly on /v2, so no
    /// token round trip per repository); should the server refuse it, the client follows Arca's token flow.</summary>
    private OciImageWriter OciWriter
    {
        get
        {
            if (_ociWriter is not null) return _ociWriter;
            lock (this)
            {
                _ociClients ??= new OciClientPool(endpoint, preemptiveBasic: true);
                return _ociWriter ??= new OciImageWriter(_ociClients.For());
            }
        }
    }
}
