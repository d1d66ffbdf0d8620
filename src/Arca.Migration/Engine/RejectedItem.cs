namespace Arca.Migration.Engine;

/// <summary>An item a source found but cannot map onto the destination's model (e.g. a generic file with no
/// package/version in its path). It carries no content; its <see cref="MigrationItem.ListingError"/> makes the engine
/// report it as failed (in dry runs too) without any writer seeing it.</summary>
public sealed record RejectedItem : MigrationItem;
