using System.Buffers;
using TimingBased.Neurons;
using TimingBased.Serving;

namespace TimingBased.Service;

/// <summary>Classifies one image with one snapshot of the model: encode, one voltage forward, peaks, class and crossings.</summary>
public static class Classifier
{
    /// <summary>Checks the pixels: 784 finite values in [0, 1]; returns the reason when they are not.</summary>
    /// <param name="pixels">The request's pixels.</param>
    /// <returns>Null when valid, else the reason.</returns>
    public static string? Validate(float[]? pixels)
    {
        if (pixels is null || pixels.Length != ModelHost.Pixels)
        {
            return $"\"pixels\" must hold {ModelHost.Pixels} values (28 x 28, row by row); it holds {pixels?.Length ?? 0}.";
        }

        for (var k = 0; k < pixels.Length; k++)
        {
            if (!(pixels[k] >= 0f && pixels[k] <= 1f))
            {
                return $"\"pixels\"[{k}] is {pixels[k]}; every pixel must be in [0, 1].";
            }
        }

        return null;
    }

    /// <summary>Classifies valid pixels with <paramref name="snapshot"/>'s model.</summary>
    /// <param name="host">The encoder's owner.</param>
    /// <param name="snapshot">The model to use, taken once for this request.</param>
    /// <param name="pixels">784 values in [0, 1].</param>
    /// <param name="detail">Whether to return the spikes and traces.</param>
    /// <returns>The answer.</returns>
    public static ClassifyResponse Classify(ModelHost host, ModelSnapshot<Tempotron> snapshot, float[] pixels, bool detail)
    {
        var model = snapshot.Model;
        var (outs, t) = (model.OutFeatures, model.T);
        var spikes = ArrayPool<float>.Shared.Rent(model.InFeatures);
        var voltages = ArrayPool<float>.Shared.Rent(outs * t);
        try
        {
            host.Encoder.Encode(pixels, 1, t, spikes);
            var input = spikes.AsSpan(0, model.InFeatures);
            var v = voltages.AsSpan(0, outs * t); // [out, T]
            model.Voltage(input, 1, v);
            var threshold = (float)model.VThreshold;
            var peaks = new float[outs];
            var crossings = new int[outs];
            for (var o = 0; o < outs; o++)
            {
                var trace = v.Slice(o * t, t);
                peaks[o] = System.Numerics.Tensors.TensorPrimitives.Max(trace);
                crossings[o] = trace.IndexOfAnyInRange(threshold, float.PositiveInfinity);
            }

            var predicted = Prediction.Class(peaks);
            var crossing = crossings[predicted];
            return new ClassifyResponse(predicted, crossing >= 0, crossing >= 0 ? crossing : null, peaks, model.VThreshold,
                snapshot.Version, detail ? Detail(input, v, outs, t, crossings) : null);
        }
        finally
        {
            ArrayPool<float>.Shared.Return(spikes);
            ArrayPool<float>.Shared.Return(voltages);
        }
    }

    private static ClassifyDetail Detail(ReadOnlySpan<float> input, ReadOnlySpan<float> v, int outs, int t, int[] crossings)
    {
        var afferents = new List<int>();
        var times = new List<float>();
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] >= 0)
            {
                afferents.Add(i);
                times.Add(input[i]);
            }
        }

        var traces = new float[outs][];
        for (var o = 0; o < outs; o++)
        {
            traces[o] = v.Slice(o * t, t).ToArray();
        }

        return new ClassifyDetail(t, [.. afferents], [.. times], traces, crossings);
    }
}
