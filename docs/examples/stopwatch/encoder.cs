#:project ../../../Core/Core.csproj

// Stopwatch timing of the event encoder (W1e) and of one image's encode + forward (W4e), on the benchmarks' 64
// shipped digits, and of the encoder on all-zero and binarised images (what the writes and the value changes cost).
// Minimum over 7 blocks. Run it twice against two checkouts to compare them in one minute:
//   dotnet run -c Release docs/examples/stopwatch/encoder.cs
using System.Diagnostics;
using System.Runtime.CompilerServices;
using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.IO;
using TimingBased.Neurons;

const int M = 16, T = 100, B = 64, P = 784;
var images = IdxFile.ReadImages(Path.Combine(Here(), "..", "data", "train-images-idx3-ubyte.gz"));
var x = new float[B * P];
var stride = images.Count / B; // the benchmarks' choice (BenchData.Digits): images spread over the file
for (var k = 0; k < B; k++)
{
    for (var p = 0; p < P; p++)
    {
        x[(k * P) + p] = images.Pixels[(((k * stride) + (k % stride)) * P) + p] / 255f;
    }
}

var one = x.AsSpan(0, P).ToArray();
var zeros = new float[B * P];
var binarised = Array.ConvertAll(x, v => v > 0 ? 1f : 0f);
var encoder = new GaussianTuning(1, M, [0f], [1f]);
var events = new SpikeEvents(P * M);
var oneEvents = new SpikeEvents(P * M);
var dense = new float[B * P * M];
var model = new Tempotron(P * M, 10, T, seed: 1);
var vMax = new float[10];

Console.WriteLine($"W1e dense encoder       {Time(() => encoder.Encode(x, B, T, dense), 200):F1} us per 64 digits");
foreach (var (name, data) in new[] { ("digits", x), ("zeros", zeros), ("binarised digits", binarised) })
{
    var us = Time(() => { events.Clear(); encoder.Encode(data, B, T, events); }, 200);
    var changes = 0;
    for (var k = 1; k < data.Length; k++)
    {
        changes += data[k] != data[k - 1] ? 1 : 0;
    }

    Console.WriteLine($"W1e events, {name,-16} {us:F1} us per 64 images, {events.EventCount} events, {changes} value changes");
}

Console.WriteLine($"one image to events      {Time(() => { oneEvents.Clear(); encoder.Encode(one, 1, T, oneEvents); }, 5000):F2} us");
Console.WriteLine($"W4e encode + MaxVoltage  {Time(() => { oneEvents.Clear(); encoder.Encode(one, 1, T, oneEvents); model.MaxVoltage(oneEvents, vMax); }, 5000):F2} us");

static double Time(Action action, int calls)
{
    for (var i = 0; i < 30; i++)
    {
        action();
    }

    var best = double.MaxValue;
    for (var r = 0; r < 7; r++)
    {
        var clock = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++)
        {
            action();
        }

        best = Math.Min(best, clock.Elapsed.TotalMicroseconds / calls);
    }

    return best;
}

static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
