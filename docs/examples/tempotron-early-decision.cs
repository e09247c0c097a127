#:project ../../Core/Core.csproj

// Early decision on MNIST: train the default Tempotron (SpikingJelly's tempotron_mnist settings) or load one, then feed
// each test digit's encoder events to a StreamingTempotron in time order and decide by the first output to reach the
// threshold, falling back to argmax vMax at T for a digit no output fires on. Reports accuracy against decision time.
//   dotnet run -c Release docs/examples/tempotron-early-decision.cs                     (100 epochs, then the streams)
//   dotnet run -c Release docs/examples/tempotron-early-decision.cs -- --load model.safetensors --csv early.csv
using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;
using TimingBased.Streaming;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var epochs = 100;
string? load = null, csv = null, data = null;
for (var k = 0; k < args.Length; k++)
{
    string Next() => k + 1 < args.Length ? args[++k] : throw new ArgumentException($"{args[k]} needs a value");
    switch (args[k])
    {
        case "--epochs": epochs = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--load": load = Next(); break;
        case "--csv": csv = Next(); break;
        case "--data": data = Next(); break;
        default:
            Console.WriteLine("usage: tempotron-early-decision.cs [--epochs 100] [--load FILE] [--data DIR] [--csv FILE]");
            return args[k] is "--help" or "-h" ? 0 : 2;
    }
}

const int m = 16, T = 100, batch = 64, pixels = 784;
var dir = data ?? Path.Combine(Here(), "data");
var trainImages = IdxFile.ReadImages(Path.Combine(dir, "train-images-idx3-ubyte.gz"));
var trainLabels = IdxFile.ReadLabels(Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
var testImages = IdxFile.ReadImages(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"));
var testLabels = IdxFile.ReadLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
var encoder = new GaussianTuning(1, m, [0f], [1f]);
var model = load is null ? new Tempotron(pixels * m, 10, T, seed: 0) : TempotronSafetensors.Load(load);
var clock = Stopwatch.StartNew();
if (load is null)
{
    // The example's default training: SGD lr 1e-3, batch 64 shuffled with seed 0, MSE on vMax.
    var trainer = new TempotronTrainer(model, new Sgd(1e-3f));
    var order = Enumerable.Range(0, trainImages.Count).ToArray();
    var rng = new Random(0);
    var x = new float[batch * pixels];
    var y = new int[batch];
    var spikes = new float[batch * pixels * m];
    for (var epoch = 0; epoch < epochs; epoch++)
    {
        rng.Shuffle(order);
        for (var start = 0; start + batch <= order.Length; start += batch)
        {
            for (var b = 0; b < batch; b++)
            {
                var image = order[start + b];
                y[b] = trainLabels[image];
                for (var p = 0; p < pixels; p++)
                {
                    x[(b * pixels) + p] = trainImages.Pixels[(image * pixels) + p] / 255f;
                }
            }

            encoder.Encode(x, batch, T, spikes);
            trainer.Step(spikes, y);
        }

        if ((epoch + 1) % 10 == 0 || epoch == 0)
        {
            Console.WriteLine($"  training: epoch {epoch + 1} of {epochs}, {clock.Elapsed.TotalSeconds:F1} s");
        }
    }

    Console.WriteLine($"trained {epochs} epochs in {clock.Elapsed.TotalSeconds:F1} s");
}

// Every test digit to events, in time order, then one stream per digit.
var count = testImages.Count;
var events = new SpikeEvents(pixels * m);
var all = new float[count * pixels];
for (var k = 0; k < all.Length; k++)
{
    all[k] = testImages.Pixels[k] / 255f;
}

encoder.Encode(all, count, T, events);
events.SortByTime();
var vMax = new float[count * 10];
model.MaxVoltage(events, vMax); // the full-window decision, for comparison
var stream = new StreamingTempotron(model);
var decisionTime = new double[count];
var decision = new int[count];
var streamClock = Stopwatch.StartNew();
long pushed = 0;
for (var d = 0; d < count; d++)
{
    stream.Reset();
    var pattern = events[d];
    for (var k = 0; k < pattern.Count && stream.FirstToFire < 0; k++)
    {
        stream.Push(pattern.Afferents[k], pattern.Times[k]);
        pushed++;
    }

    if (stream.FirstToFire >= 0)
    {
        decision[d] = stream.FirstToFire;
        decisionTime[d] = stream.CrossingTimes[stream.FirstToFire];
    }
    else
    {
        stream.AdvanceTo(T);
        decision[d] = ArgMax(stream.MaxVoltages);
        decisionTime[d] = T; // no output fired: decided when the window closes
    }
}

var streamSeconds = streamClock.Elapsed.TotalSeconds;
var fullWindow = Enumerable.Range(0, count).Count(d => ArgMax(vMax.AsSpan(d * 10, 10)) == testLabels[d]) / (double)count;
var early = Enumerable.Range(0, count).Count(d => decision[d] == testLabels[d]) / (double)count;
var crossed = Enumerable.Range(0, count).Where(d => decisionTime[d] < T).ToArray();
var fallback = count - crossed.Length;
Console.WriteLine($"{count} test digits; full-window accuracy (argmax vMax) {fullWindow:P2}");
Console.WriteLine($"first-to-fire accuracy {early:P2} (with the fallback at T); {crossed.Length} digits ({crossed.Length / (double)count:P1}) decided by a crossing, " +
                  $"{fallback} ({fallback / (double)count:P1}) by argmax vMax when the window closed; mean decision time {decisionTime.Average():F1} steps");
Console.WriteLine($"streams: {pushed} events pushed in {streamSeconds:F2} s ({pushed / streamSeconds / 1e6:F1} M events/s, stopping at each decision)");
Console.WriteLine();
Console.WriteLine("  t  decided by a crossing by t  accuracy of those");
var lines = new List<string> { "t,decided_by_crossing_fraction,accuracy_of_decided,full_window_accuracy" };
for (var t = 0; t <= T; t += 5)
{
    // Only crossings count here; the digits no output fired on are the fallback, reported on their own below.
    var decided = crossed.Where(d => decisionTime[d] <= t).ToArray();
    var right = decided.Count(d => decision[d] == testLabels[d]);
    var accuracy = decided.Length == 0 ? "-" : (right / (double)decided.Length).ToString("P2", CultureInfo.InvariantCulture);
    Console.WriteLine($"{t,3}  {decided.Length / (double)count,26:P1}  {accuracy,17}");
    var accuracyCsv = decided.Length == 0 ? "" : (right / (double)decided.Length).ToString("R", CultureInfo.InvariantCulture);
    lines.Add(string.Create(CultureInfo.InvariantCulture, $"{t},{decided.Length / (double)count:R},{accuracyCsv},{fullWindow:R}"));
}

var fallbackRight = Enumerable.Range(0, count).Count(d => decisionTime[d] >= T && decision[d] == testLabels[d]);
Console.WriteLine($"fallback at T (no output fired): {fallback / (double)count:P1} of the digits, " +
                  $"accuracy {(fallback == 0 ? "-" : (fallbackRight / (double)fallback).ToString("P2", CultureInfo.InvariantCulture))}");

if (csv is not null)
{
    File.WriteAllLines(csv, lines);
}

return 0;

static int ArgMax(ReadOnlySpan<float> values)
{
    var best = 0;
    for (var o = 1; o < values.Length; o++)
    {
        if (values[o] > values[best])
        {
            best = o;
        }
    }

    return best;
}

static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
