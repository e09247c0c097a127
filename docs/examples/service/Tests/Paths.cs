namespace TimingBased.Service.Tests;

/// <summary>Where the repository, the built service and the shipped data are, found from the test assembly.</summary>
public static class Paths
{
    /// <summary>Gets the repository's root (the folder of TimingBased.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Gets the service's build output, of the configuration the tests were built in.</summary>
    public static string ServiceOutput { get; } = Path.Combine(Root, "docs", "examples", "service", "bin",
        Path.GetFileName(Path.GetDirectoryName(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)))!, "net10.0");

    /// <summary>Gets the model file the service starts with.</summary>
    public static string InitialModel { get; } = Path.Combine(Root, "docs", "examples", "service", "models", "mnist.safetensors");

    /// <summary>Gets the shipped MNIST test images.</summary>
    public static string TestImages { get; } = Path.Combine(Root, "docs", "examples", "data", "t10k-images-idx3-ubyte.gz");

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "TimingBased.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("TimingBased.sln not found above " + AppContext.BaseDirectory);
    }
}
