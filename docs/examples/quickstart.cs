#:project ../../Core/Core.csproj

// Quick start: encode a few values with Gaussian receptive fields (SpikingJelly's documented example).
using TimingBased.Encoding;

var encoder = new GaussianTuning(n: 1, m: 4, xMin: [0f], xMax: [1f]);
float[] x = [0.1f, 0.5f, 0.9f];             // shape [batch 1, n 1, samples 3]
var spikes = new float[x.Length * encoder.M]; // shape [1, 1, 3, 4]
encoder.Encode(x, batchSize: 1, maxSpikeTime: 100, spikes);

Console.WriteLine($"mu     = [{string.Join(", ", encoder.Mu.ToArray())}]");
Console.WriteLine($"sigma2 = {encoder.Sigma2[0]}");
for (var s = 0; s < x.Length; s++)
{
    Console.WriteLine($"x = {x[s]:0.0} -> spike times [{string.Join(", ", spikes.AsSpan(s * 4, 4).ToArray())}]");
}
