using TimingBased.Encoding;
using TimingBased.IO;

namespace TimingBased.Benchmarks;

/// <summary>Benchmark inputs: real MNIST digits from the examples' data set, encoded as the example does.</summary>
internal static class BenchData
{
    public const int Pixels = 784;

    /// <summary>The first <paramref name="count"/> training images as pixel / 255 floats, and their labels.</summary>
    public static (float[] Pixels, int[] Labels) Digits(int count)
    {
        var dir = DataDirectory();
        var images = IdxFile.ReadImages(Path.Combine(dir, "train-images-idx3-ubyte.gz"));
        var labels = IdxFile.ReadLabels(Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
        // The file is ordered by digit: take images spread over it, so that every class appears.
        var x = new float[count * Pixels];
        var y = new int[count];
        var stride = images.Count / count;
        for (var k = 0; k < count; k++)
        {
            var src = (k * stride) + (k % stride);
            for (var p = 0; p < Pixels; p++)
            {
                x[(k * Pixels) + p] = images.Pixels[(src * Pixels) + p] / 255f;
            }

            y[k] = labels[src];
        }

        return (x, y);
    }

    /// <summary>Encodes images with GaussianTuning(n = 1, m, [0, 1]) and maxSpikeTime = T: shape [count, 784 m].</summary>
    public static float[] Encode(float[] pixels, int count, int m, int t)
    {
        var spikes = new float[pixels.Length * m];
        new GaussianTuning(1, m, [0f], [1f]).Encode(pixels, count, t, spikes);
        return spikes;
    }

    /// <summary>Seeded random integer spike times with the density of encoded digits (~20 % of inputs spike).</summary>
    public static float[] RandomSpikes(int count, int inFeatures, int t, int seed)
    {
        var rng = new Random(seed);
        var s = new float[count * inFeatures];
        for (var k = 0; k < s.Length; k++)
        {
            s[k] = rng.Next(5) == 0 ? rng.Next(t) : -1f;
        }

        return s;
    }

    private static string DataDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "docs", "examples", "data");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("docs/examples/data not found above " + AppContext.BaseDirectory);
    }
}
