#:package TorchSharp-cpu
#:property RuntimeIdentifier=linux-x64
#:property Optimize=true
#:project ../../Core/Core.csproj

// The libtorch peer: SpikingJelly's Tempotron algorithm (spikingjelly.timing_based.neuron.Tempotron, its forward,
// mse_loss and the backward autograd derives) written op for op in TorchSharp (libtorch 2.10, one thread), timed in
// the same process and the same minutes as the library on the benchmarks' inputs (the 64 spread MNIST digits of
// Benchmarks/BenchData.cs, GaussianTuning(1, 16, [0, 1]), T = 100):
//   W2  forward MaxVoltage of a Tempotron(12544, 10)            (libtorch under no_grad)
//   W3  training step: forward, mse_loss, backward, SGD at learning rate 0 (as TrainingBenchmarks)
//   W5  12544 -> 100 -> 10, 'spikes' between the layers (soft arg-max), forward + backward (as TwoLayerBenchmarks)
// Both sides start from the library's initial weights; the outputs and gradients are compared before timing.
// Rounds alternate libtorch (one call) and the library (minimum over 7 blocks of calls); the table gives the median
// libtorch call, the library's minimum, and their ratio per round, then the median ratio.
//   bash docs/examples/libtorch-peer.sh [rounds] [workload prefix]
// (TorchSharp's libtorch needs glibc >= 2.38, and libtorch runs on jemalloc by default: the script says why and how.)
using System.Diagnostics;
using TimingBased.Encoding;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;
using TorchSharp;
using static TorchSharp.torch;

const int B = 64, P = 784, M = 16, T = 100, In = P * M, Out = 10, Hidden = 100;
var rounds = args.Length > 0 ? int.Parse(args[0]) : 5;
var only = args.Length > 1 ? args[1] : "W";
torch.set_num_threads(1);
torch.set_num_interop_threads(1);

// The benchmarks' inputs (Benchmarks/BenchData.cs): images spread over the ordered file, so every class appears.
var images = IdxFile.ReadImages(Path.Combine(Here(), "data", "train-images-idx3-ubyte.gz"));
var labelsAll = IdxFile.ReadLabels(Path.Combine(Here(), "data", "train-labels-idx1-ubyte.gz"));
var pixels = new float[B * P];
var labels = new int[B];
var stride = images.Count / B;
for (var k = 0; k < B; k++)
{
    var src = (k * stride) + (k % stride);
    for (var p = 0; p < P; p++) pixels[(k * P) + p] = images.Pixels[(src * P) + p] / 255f;
    labels[k] = labelsAll[src];
}

var spikes = new float[B * In];
new GaussianTuning(1, M, [0f], [1f]).Encode(pixels, B, T, spikes);

var layer = new Tempotron(In, Out, T, seed: 1);
var hidden = new Tempotron(In, Hidden, T, seed: 1);
var output = new Tempotron(Hidden, Out, T, seed: 2);
var v0 = (float)layer.V0;
var tau = (float)Tempotron.DefaultTau;
var tauS = (float)Tempotron.DefaultTauS;
var threshold = (float)Tempotron.DefaultVThreshold;

var xs = tensor(spikes, [B, In]);
var ys = tensor(labels.Select(l => (long)l).ToArray(), [B]);
var w = nn.Parameter(tensor(Weights(layer), [Out, In]));
var w1 = nn.Parameter(tensor(Weights(hidden), [Hidden, In]));
var w2 = nn.Parameter(tensor(Weights(output), [Out, Hidden]));
var sgd = optim.SGD([w], 0.0);

// SpikingJelly's Tempotron.forward, op for op.
Tensor Voltage(Tensor inSpikes, Tensor weight)
{
    var batch = inSpikes.shape[0];
    var inFeatures = inSpikes.shape[1];
    var t = arange(0, T, dtype: float32).view(1, 1, T).repeat(batch, inFeatures, 1);
    var s = inSpikes.unsqueeze(-1).repeat(1, 1, T);
    var u = t - s;
    var psp = (exp(-u / tau) - exp(-u / tauS)) * (u >= 0).to_type(float32);
    var vIn = v0 * psp * (s >= 0).to_type(float32);
    return nn.functional.linear(vIn.permute(0, 2, 1), weight).permute(0, 2, 1); // [batch, out, T]
}

Tensor VMax(Tensor v) => nn.functional.max_pool1d(v, T).squeeze();

Tensor SpikeTimes(Tensor v)
{
    var maxIndex = v.argmax(2).to_type(float32);
    var time = arange(0, T, dtype: float32);
    var maxIndexSoft = (nn.functional.softmax(v * T, 2) * time).sum(2);
    var mask = (VMax(v) >= threshold).to_type(float32) * 2 - 1;
    maxIndex *= mask;
    maxIndexSoft *= mask;
    return maxIndexSoft + (maxIndex - maxIndexSoft).detach();
}

Tensor MseLoss(Tensor vMax)
{
    var wrong = ((vMax >= threshold).to_type(float32) != nn.functional.one_hot(ys, Out).to_type(float32)).to_type(float32);
    return pow((vMax - threshold) * wrong, 2).sum() / B;
}

float TorchW2()
{
    using var scope = NewDisposeScope();
    using var noGrad = no_grad();
    return VMax(Voltage(xs, w)).sum().item<float>();
}

float TorchW3()
{
    using var scope = NewDisposeScope();
    sgd.zero_grad();
    var loss = MseLoss(VMax(Voltage(xs, w)));
    loss.backward();
    sgd.step();
    return loss.item<float>();
}

float TorchW5()
{
    using var scope = NewDisposeScope();
    w1.grad?.zero_();
    w2.grad?.zero_();
    var loss = MseLoss(VMax(Voltage(SpikeTimes(Voltage(xs, w1)), w2)));
    loss.backward();
    return loss.item<float>();
}

// The library's side of each workload, as the benchmarks call it.
var vmax = new float[B * Out];
var trainer = new TempotronTrainer(new Tempotron(In, Out, T, Weights(layer)), new Sgd(0f));
var s1 = new float[B * Hidden];
var dv = new float[B * Out];
var dW1 = new float[hidden.WeightCount];
var dW2 = new float[output.WeightCount];
var dS1 = new float[B * Hidden];
var tape1 = new TempotronTape();
var tape2 = new TempotronTape();
float LibW2() { layer.MaxVoltage(spikes, B, vmax); return vmax[0]; }
float LibW3() => trainer.Step(spikes, labels).Loss;
float LibW5()
{
    hidden.SpikeTimes(tape1, spikes, B, s1);
    output.MaxVoltage(tape2, s1, B, vmax);
    var loss = output.LossBackward(vmax, labels, dv);
    output.MaxVoltageBackward(tape2, dv, dW2, dS1);
    hidden.SpikeTimesBackward(tape1, dS1, dW1, []);
    return loss;
}

// Same numbers first: v_max, the W3 gradient, the W5 hidden spike times and both W5 gradients.
using (var check = NewDisposeScope())
{
    using (no_grad())
    {
        layer.MaxVoltage(spikes, B, vmax);
        Compare("W2 v_max", vmax, VMax(Voltage(xs, w)));
    }

    sgd.zero_grad();
    MseLoss(VMax(Voltage(xs, w))).backward();
    var dW = new float[layer.WeightCount];
    layer.MaxVoltageBackward(spikes, B, Dv(layer), dW, []);
    Compare("W3 weight gradient", dW, w.grad!);

    LibW5();
    w1.grad?.zero_();
    w2.grad?.zero_();
    var st = SpikeTimes(Voltage(xs, w1));
    MseLoss(VMax(Voltage(st, w2))).backward();
    Compare("W5 hidden spike times", s1, st);
    Compare("W5 output-layer gradient", dW2, w2.grad!);
    Compare("W5 hidden-layer gradient", dW1, w1.grad!);
}

Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} cores; libtorch {torch.__version__} on {torch.get_num_threads()} thread, "
    + $"allocator {Environment.GetEnvironmentVariable("LIBTORCH_PEER_MALLOC") ?? "glibc"}; the library on one thread; {rounds} rounds");
Console.WriteLine("| workload | round | libtorch (one call) | library (min of 7 blocks) | ratio |");
Console.WriteLine("| --- | ---: | ---: | ---: | ---: |");
foreach (var (name, torchCall, libCall, calls) in new (string, Func<float>, Func<float>, int)[]
{
    ("W2 forward", TorchW2, LibW2, 200),
    ("W3 training step", TorchW3, LibW3, 200),
    ("W5 two layers with tapes", TorchW5, LibW5, 20),
})
{
    if (!name.StartsWith(only, StringComparison.Ordinal)) continue;
    torchCall();
    var ratios = new List<double>();
    var torchTimes = new List<double>();
    var libTimes = new List<double>();
    for (var r = 0; r < rounds; r++)
    {
        var sw = Stopwatch.StartNew();
        torchCall();
        var torchUs = sw.Elapsed.TotalMicroseconds;
        var libUs = PerCall(libCall, calls);
        torchTimes.Add(torchUs);
        libTimes.Add(libUs);
        ratios.Add(torchUs / libUs);
        Console.WriteLine($"| {name} | {r + 1} | {torchUs / 1000:N1} ms | {libUs:N0} µs | {torchUs / libUs:N0}× |");
    }

    Console.WriteLine($"| **{name}** | median | {Median(torchTimes) / 1000:N1} ms | {Median(libTimes):N0} µs | **{Median(ratios):N0}×** |");
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToArray();
    return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
}

static double PerCall(Func<float> call, int calls)
{
    for (var i = 0; i < 20; i++) call();
    var best = double.MaxValue;
    for (var block = 0; block < 7; block++)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < calls; i++) call();
        best = Math.Min(best, sw.Elapsed.TotalMicroseconds / calls);
    }

    return best;
}

static float[] Weights(Tempotron model)
{
    var weights = new float[model.WeightCount];
    model.CopyWeightsTo(weights);
    return weights;
}

float[] Dv(Tempotron model)
{
    var d = new float[B * Out];
    model.MaxVoltage(spikes, B, vmax);
    model.LossBackward(vmax, labels, d);
    return d;
}

// Largest difference relative to the largest magnitude of the libtorch result; stops the run above 1e-4.
static void Compare(string what, float[] library, Tensor reference)
{
    var expected = reference.detach().contiguous().data<float>().ToArray();
    double worst = 0, scale = 0;
    for (var k = 0; k < expected.Length; k++)
    {
        worst = Math.Max(worst, Math.Abs((double)library[k] - expected[k]));
        scale = Math.Max(scale, Math.Abs((double)expected[k]));
    }

    Console.WriteLine($"check {what}: max |library - libtorch| = {worst:G3} (largest |libtorch| {scale:G3})");
    if (worst > 1e-4 * Math.Max(scale, 1e-30))
    {
        throw new InvalidOperationException($"{what}: the library differs from libtorch's SpikingJelly algorithm.");
    }
}

static string Here([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
