using System.Text.RegularExpressions;
using Arca.Core.Model;

namespace Arca.Server.Formats.PyPI;

/// <summary>Python project names (PEP 503 / PEP 508), versions and distribution file names (wheels and sdists).</summary>
public static partial class PyPINames
{
    [GeneratedRegex(@"^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]{0,198}[A-Za-z0-9])$")]
    private static partial Regex ProjectPattern();

    [GeneratedRegex(@"[-_.]+")]
    private static partial Regex SeparatorRuns();

    // PEP 440 versions are varied (epochs, local parts); accept their character set and refuse anything path-like.
    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+!-]{0,127}$")]
    private static partial Regex VersionPattern();

    // {distribution}-{version}(-{build tag})?-{python tag}-{abi tag}-{platform tag}.whl (PEP 427)
    [GeneratedRegex(@"^(?<name>[^-]+)-(?<version>[^-]+)(-(?<build>\d[^-]*))?-(?<py>[^-]+)-(?<abi>[^-]+)-(?<plat>[^-]+)\.whl$")]
    private static partial Regex WheelPattern();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9._+!-]*$")]
    private static partial Regex FileNamePattern();

    /// <summary>PEP 503 normalization: lowercase, runs of '-', '_' and '.' become one '-'.</summary>
    public static string Normalize(string name) => SeparatorRuns().Replace(name, "-").ToLowerInvariant();

    public static bool IsNormalized(string name) => Normalize(name) == name;

    public static string ValidateProject(string? name)
    {
        if (string.IsNullOrEmpty(name) || !ProjectPattern().IsMatch(name))
            throw ArcaException.BadRequest($"invalid project name '{Printable(name)}': use letters, digits, '.', '_' and '-', starting and ending with a letter or digit", "INVALID_NAME");
        return name;
    }

    public static string ValidateVersion(string? version)
    {
        if (string.IsNullOrEmpty(version) || !VersionPattern().IsMatch(version))
            throw ArcaException.BadRequest($"invalid version '{Printable(version)}'", "INVALID_VERSION");
        return version;
    }

    /// <summary>Versions compared loosely, the way file names spell them (wheels write '-' in a version as '_').</summary>
    public static string LooseVersion(string version) => version.ToLowerInvariant().Replace('_', '-').TrimStart('v');

    public enum DistributionKind { Wheel, SdistTarGz, SdistZip }

    /// <summary>Checks that a distribution file name belongs to <paramref name="project"/> <paramref name="version"/>
    /// and returns its kind.</summary>
    public static DistributionKind ValidateFileName(string fileName, string project, string version)
    {
        if (fileName.Length > 255 || !FileNamePattern().IsMatch(fileName) || fileName.Contains(".."))
            throw ArcaException.BadRequest($"invalid file name '{Printable(fileName)}'", "INVALID_FILENAME");
        string fileProject, fileVersion;
        DistributionKind kind;
        if (fileName.EndsWith(".whl", StringComparison.Ordinal))
        {
            var m = WheelPattern().Match(fileName);
            if (!m.Success) throw ArcaException.BadRequest($"'{Printable(fileName)}' is not a valid wheel file name (name-version-python-abi-platform.whl)", "INVALID_FILENAME");
            (fileProject, fileVersion, kind) = (m.Groups["name"].Value, m.Groups["version"].Value, DistributionKind.Wheel);
        }
        else
        {
            string stem;
            if (fileName.EndsWith(".tar.gz", StringComparison.Ordinal)) (stem, kind) = (fileName[..^7], DistributionKind.SdistTarGz);
            else if (fileName.EndsWith(".zip", StringComparison.Ordinal)) (stem, kind) = (fileName[..^4], DistributionKind.SdistZip);
            else throw ArcaException.BadRequest($"unsupported file type '{Printable(fileName)}': upload a wheel (.whl) or an sdist (.tar.gz, .zip)", "INVALID_FILENAME");
            // Older sdists keep '-' inside the name; the version follows the last '-'.
            var dash = stem.LastIndexOf('-');
            if (dash <= 0) throw ArcaException.BadRequest($"'{Printable(fileName)}' is not a valid sdist file name (name-version.tar.gz)", "INVALID_FILENAME");
            (fileProject, fileVersion) = (stem[..dash], stem[(dash + 1)..]);
        }
        if (Normalize(fileProject) != Normalize(project))
            throw ArcaException.BadRequest($"the file name '{Printable(fileName)}' is for project '{Printable(fileProject)}', not '{Printable(project)}'", "NAME_MISMATCH");
        if (LooseVersion(fileVersion) != LooseVersion(version))
            throw ArcaException.BadRequest($"the file name '{Printable(fileName)}' is for version '{Printable(fileVersion)}', not '{Printable(version)}'", "VERSION_MISMATCH");
        return kind;
    }

    internal static string Printable(string? s) =>
        s is null ? "" : new string(s.Take(300).Select(c => char.IsControl(c) ? '?' : c).ToArray());
}
