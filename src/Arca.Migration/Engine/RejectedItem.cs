namespace Arca.Migration.Engine;

/// <summary>An item a source found but cannot map onto the destination's model (e.g. a generic file with no
/// package/version in its path). It is reported as failed with <see cref="Reason"/>; no writer ever sees it.</summary>
public sealed record RejectedItem : MigrationItem
{
    public required string Reason { get; init; }
}
