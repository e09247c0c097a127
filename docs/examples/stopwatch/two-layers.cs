#:project ../../../Core/Core.csproj

// Stopwatch timing of W5 (12544 -> 100 -> 10, forward + MSE + backward through both, batch 64 shipped digits), the
// same calls as TwoLayerBenchmarks.EventDriven and EventDrivenWithTapes; minimum per call over alternated blocks of 10 for 8 s.
//   dotnet run -c Release docs/examples/stopwatch/two-layers.cs -- [threads]
using System.Diagnostics;
using System.Runtime.CompilerServices;
using TimingBased.Encoding;
using TimingBased.IO;
using TimingBased.Neurons;

const int M = 16, T = 100, B = 64, P = 784, H = 100;
var threads = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 1;
var images = IdxFile.ReadImages(Path.Combine(Here(), "..", "data", "train-images-idx3-ubyte.gz"));
var labelsAll = IdxFile.ReadLabels(Path.Combine(Here(), "..", "data", "train-labels-idx1-ubyte.gz"));
var x = new float[B * P];
var labels = new int[B];
var stride = images.Count / B;
for (var k = 0; k < B; k++)
{
    var src = (k * stride) + (k % stride);
    for (var p = 0; p < P; p++)
    {
        x[(k * P) + p] = images.Pixels[(src * P) + p] / 255f;
    }

    labels[k] = labelsAll[src];
}

var spikes = new float[B * P * M];
new GaussianTuning(1, M, [0f], [1f]).Encode(x, B, T, spikes);
var l1 = new Tempotron(P * M, H, T, seed: 1) { MaxDegreeOfParallelism = threads };
var l2 = new Tempotron(H, 10, T, seed: 2) { MaxDegreeOfParallelism = threads };
var s1 = new float[B * H];
var vMax = new float[B * 10];
var dv = new float[B * 10];
var dS1 = new float[B * H];
var dW1 = new float[l1.WeightCount];
var dW2 = new float[l2.WeightCount];

var tape1 = new TempotronTape();
var tape2 = new TempotronTape();

void Chain()
{
    l1.SpikeTimes(spikes, B, s1);
    l2.MaxVoltage(s1, B, vMax);
    l2.LossBackward(vMax, labels, dv);
    l2.MaxVoltageBackward(s1, B, dv, dW2, dS1);
    l1.SpikeTimesBackward(spikes, B, dS1, dW1, []);
}

void ChainWithTapes()
{
    l1.SpikeTimes(tape1, spikes, B, s1);
    l2.MaxVoltage(tape2, s1, B, vMax);
    l2.LossBackward(vMax, labels, dv);
    l2.MaxVoltageBackward(tape2, dv, dW2, dS1);
    l1.SpikeTimesBackward(tape1, dS1, dW1, []);
}

for (var i = 0; i < 20; i++)
{
    Chain();
    ChainWithTapes();
}

// Blocks of the two chains alternate, so both see the same minutes of this noisy machine.
var best = double.MaxValue;
var bestTapes = double.MaxValue;
var total = Stopwatch.StartNew();
while (total.ElapsedMilliseconds < 8000)
{
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < 10; i++)
    {
        Chain();
    }

    best = Math.Min(best, clock.Elapsed.TotalMilliseconds / 10);
    clock.Restart();
    for (var i = 0; i < 10; i++)
    {
        ChainWithTapes();
    }

    bestTapes = Math.Min(bestTapes, clock.Elapsed.TotalMilliseconds / 10);
}

Console.WriteLine($"W5, {threads} thread(s): {best:F2} ms per batch of 64; with tapes {bestTapes:F2} ms");

static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
