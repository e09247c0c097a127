#:project ../../../Core/Core.csproj

// What serving one model costs, in process (docs/serving.md): the first call and the first 1,000 calls of a fresh
// process, the warm state, what each new thread's first call allocates, a swap (load a model file and publish it),
// and the read path through a ModelSlot against the model used directly. One image of the shipped MNIST digits,
// the service's model (784 x 16 inputs, 10 outputs, T = 100).
//   dotnet run -c Release docs/examples/stopwatch/serving.cs
// Compare JIT settings with, for example, DOTNET_TieredPGO=0 or DOTNET_TieredCompilation=0 in the environment.
using System.Diagnostics;
using TimingBased.Encoding;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Serving;

var process = Stopwatch.StartNew();
var root = AppContext.GetData("EntryPointFileDirectoryPath") as string ?? Directory.GetCurrentDirectory();
var modelPath = Path.GetFullPath(Path.Combine(root, "../service/models/mnist.safetensors"));
var images = IdxFile.ReadImages(Path.GetFullPath(Path.Combine(root, "../data/t10k-images-idx3-ubyte.gz")));
var file = File.ReadAllBytes(modelPath);

var allocated = GC.GetAllocatedBytesForCurrentThread();
var clock = Stopwatch.StartNew();
var model = TempotronSafetensors.Load(file);
var loadMs = clock.Elapsed.TotalMilliseconds;
var loadBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
var slot = new ModelSlot<Tempotron>(model);

var encoder = new GaussianTuning(n: 1, m: 16, xMin: [0f], xMax: [1f]);
var pixels = new float[784];
var spikes = new float[784 * 16];
var peaks = new float[10];
void Input(int k)
{
    for (var p = 0; p < 784; p++)
    {
        pixels[p] = images.Pixels[(k % images.Count * 784) + p] / 255f;
    }

    encoder.Encode(pixels, 1, 100, spikes);
}

double Call(int k)
{
    Input(k);
    var start = Stopwatch.GetTimestamp();
    slot.Current.Model.MaxVoltage(spikes, 1, peaks);
    return Stopwatch.GetElapsedTime(start).TotalMicroseconds;
}

static string Quantiles(List<double> us)
{
    us.Sort();
    return $"p50 {us[us.Count / 2]:F1} µs, p99 {us[(int)(us.Count * 0.99)]:F1} µs";
}

allocated = GC.GetAllocatedBytesForCurrentThread();
var first = Call(0);
var firstBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
var firstThousand = Enumerable.Range(1, 1000).Select(Call).ToList();
for (var k = 0; k < 20_000; k++)
{
    Call(k);
}

var warm = Enumerable.Range(0, 5000).Select(Call).ToList();
Console.WriteLine($"process start to here {process.Elapsed.TotalMilliseconds:F0} ms (before the first call)");
Console.WriteLine($"load the model file: {loadMs:F2} ms, {loadBytes / 1024.0:F0} KB allocated ({file.Length / 1024.0:F0} KB file)");
Console.WriteLine($"first call: {first:F0} µs, {firstBytes / 1024.0:F0} KB allocated on the calling thread");
Console.WriteLine($"calls 2-1001: {Quantiles(firstThousand)}");
Console.WriteLine($"warm (after 21,000 calls): {Quantiles(warm)}");

// Each new thread's first call allocates its scratch; its later calls allocate nothing.
var threadFirst = 0L;
var threadLater = 0L;
var thread = new Thread(() =>
{
    var before = GC.GetAllocatedBytesForCurrentThread();
    slot.Current.Model.MaxVoltage(spikes, 1, peaks);
    threadFirst = GC.GetAllocatedBytesForCurrentThread() - before;
    before = GC.GetAllocatedBytesForCurrentThread();
    slot.Current.Model.MaxVoltage(spikes, 1, peaks);
    threadLater = GC.GetAllocatedBytesForCurrentThread() - before;
});
thread.Start();
thread.Join();
Console.WriteLine($"a new thread's first call allocates {threadFirst / 1024.0:F0} KB, its second {threadLater} B");

// A swap: load a file and publish it, best of 20.
var swapMs = double.MaxValue;
var swapBytes = 0L;
for (var k = 0; k < 20; k++)
{
    allocated = GC.GetAllocatedBytesForCurrentThread();
    clock.Restart();
    slot.Publish(TempotronSafetensors.Load(file));
    swapMs = Math.Min(swapMs, clock.Elapsed.TotalMilliseconds);
    swapBytes = GC.GetAllocatedBytesForCurrentThread() - allocated;
}

Console.WriteLine($"swap (load + publish): {swapMs:F2} ms, {swapBytes / 1024.0:F0} KB allocated ({model.WeightCount * 4 / 1024.0:F0} KB of weights)");

// The read path: the slot's volatile read against a model used directly, alternating blocks, best of 9 each.
var direct = slot.Current.Model;
double bestSlot = double.MaxValue, bestDirect = double.MaxValue;
Input(3);
for (var block = 0; block < 9; block++)
{
    clock.Restart();
    for (var k = 0; k < 2000; k++)
    {
        slot.Current.Model.MaxVoltage(spikes, 1, peaks);
    }

    bestSlot = Math.Min(bestSlot, clock.Elapsed.TotalMicroseconds / 2000);
    clock.Restart();
    for (var k = 0; k < 2000; k++)
    {
        direct.MaxVoltage(spikes, 1, peaks);
    }

    bestDirect = Math.Min(bestDirect, clock.Elapsed.TotalMicroseconds / 2000);
}

Console.WriteLine($"read path: through the slot {bestSlot:F2} µs, the model directly {bestDirect:F2} µs per call (ratio {bestSlot / bestDirect:F3})");
