namespace Arca.Core.Model;

/// <summary>The package types a registry can hold (PRODUCT.md "Registries").</summary>
public static class PackageTypes
{
    public const string Docker = "DOCKER", Helm = "HELM", Generic = "GENERIC", Maven = "MAVEN", Npm = "NPM",
        Python = "PYTHON", NuGet = "NUGET", Go = "GO", Rpm = "RPM", Cargo = "CARGO", Conda = "CONDA",
        Composer = "COMPOSER", Dart = "DART";

    public static readonly IReadOnlyList<string> All =
        [Docker, Helm, Generic, Maven, Npm, Python, NuGet, Go, Rpm, Cargo, Conda, Composer, Dart];

    /// <summary>Returns the canonical upper-case type, or null when unknown.</summary>
    public static string? Normalize(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var upper = value.Trim().ToUpperInvariant();
        return All.Contains(upper) ? upper : null;
    }
}
