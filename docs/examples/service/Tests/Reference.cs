using System.Text.Json;
using TimingBased.Encoding;
using TimingBased.IO;
using TimingBased.Neurons;

namespace TimingBased.Service.Tests;

/// <summary>What the service should answer, computed here with Core from the same model file (no HTTP, no sharing).</summary>
public static class Reference
{
    /// <summary>The encoder the service uses (m = 16).</summary>
    public static GaussianTuning Encoder { get; } = new(n: 1, m: 16, xMin: [0f], xMax: [1f]);

    /// <summary>The first <paramref name="count"/> shipped test digits, as pixel/255.</summary>
    public static float[][] Digits(int count)
    {
        var images = IdxFile.ReadImages(Paths.TestImages);
        return [.. Enumerable.Range(0, count).Select(k => images.Pixels.AsSpan(k * 784, 784).ToArray().Select(p => p / 255f).ToArray())];
    }

    /// <summary>The input spike times of one image for <paramref name="model"/>.</summary>
    public static float[] Spikes(Tempotron model, float[] pixels)
    {
        var spikes = new float[model.InFeatures];
        Encoder.Encode(pixels, 1, model.T, spikes);
        return spikes;
    }

    /// <summary>The peak voltages of one image.</summary>
    public static float[] Peaks(Tempotron model, float[] pixels)
    {
        var peaks = new float[model.OutFeatures];
        model.MaxVoltage(Spikes(model, pixels), 1, peaks);
        return peaks;
    }

    /// <summary>A random model of the service's shape, as a file: a model other than the initial one.</summary>
    public static byte[] RandomModelFile(int seed) => TempotronSafetensors.ToBytes(new Tempotron(784 * 16, 10, 100, seed: seed));

    /// <summary>The float array of a JSON property.</summary>
    public static float[] Floats(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetSingle())];

    /// <summary>The JSON body of a classify request.</summary>
    public static string Body(float[] pixels) => JsonSerializer.Serialize(new { pixels });
}
