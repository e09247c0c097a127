#:project ../../Core/Core.csproj

// Thread scaling, measured against what this machine gives: (a) one single-threaded copy alone, (b) two single-threaded
// copies at once (the capacity is 2a/b), (c) MaxDegreeOfParallelism = 2. W2 (forward MaxVoltage), W3 (training step) and
// W5 (12544 -> 100 -> 10, forward + backward), 64 shipped digits, Stopwatch min of 7 x 200 calls (W5: 7 x 20).
//   dotnet run -c Release docs/examples/thread-scaling.cs      (also writes docs/examples/results/thread-scaling.csv)
using System.Diagnostics;
using TimingBased.Encoding;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;
var images = IdxFile.ReadImages(Path.Combine(Here(), "data", "train-images-idx3-ubyte.gz"));
var labelsAll = IdxFile.ReadLabels(Path.Combine(Here(), "data", "train-labels-idx1-ubyte.gz"));
var x = new float[64 * 784];
for (var k = 0; k < x.Length; k++) x[k] = images.Pixels[k] / 255f;
var labels = labelsAll.AsSpan(0, 64).ToArray().Select(b => (int)b).ToArray();
var enc = new GaussianTuning(1, 16, [0f], [1f]);
var spikes = new float[64 * 784 * 16];
enc.Encode(x, 64, spikes, 100);
double PerCall(Action a, int n) { for (var i = 0; i < 50; i++) a(); var best = double.MaxValue; for (var r = 0; r < 7; r++) { var sw = Stopwatch.StartNew(); for (var i = 0; i < n; i++) a(); best = Math.Min(best, sw.Elapsed.TotalMicroseconds / n); } return best; }
var csv = new List<string> { "workload,one_copy_us,two_copies_us_first,two_copies_us_second,dop2_us,capacity,speedup" };
foreach (var (name, make, calls) in new (string, Func<int, Action>, int)[] {
  ("W2 forward", dop => { var m = new Tempotron(12544, 10, 100, seed: 1) { MaxDegreeOfParallelism = dop }; var v = new float[640]; return () => m.MaxVoltage(spikes, 64, v); }, 200),
  ("W3 step", dop => { var t = new TempotronTrainer(new Tempotron(12544, 10, 100, seed: 1) { MaxDegreeOfParallelism = dop }, new Sgd(0f)); return () => t.Step(spikes, labels); }, 200),
  ("W5 two layers", TwoLayers, 20) })
{
  var one = make(1);
  var a = PerCall(one, calls);
  // two independent single-threaded copies at once
  var m1 = make(1); var m2 = make(1);
  double b1 = 0, b2 = 0;
  var t1 = new Thread(() => b1 = PerCall(m1, calls)); var t2 = new Thread(() => b2 = PerCall(m2, calls));
  t1.Start(); t2.Start(); t1.Join(); t2.Join();
  var b = Math.Max(b1, b2);
  var c = PerCall(make(2), calls);
  csv.Add(FormattableString.Invariant($"{name},{a:0.0},{b1:0.0},{b2:0.0},{c:0.0},{2 * a / b:0.000},{a / c:0.000}"));
  Console.WriteLine($"{name}: (a) one copy {a:0} us; (b) two copies at once {b1:0}/{b2:0} us each -> capacity {2 * a / b:0.00}x; (c) DOP 2 {c:0} us -> speed-up {a / c:0.00}x ({a / c / (2 * a / b):P0} of capacity)");
}

File.WriteAllLines(Path.Combine(Here(), "results", "thread-scaling.csv"), csv);

// W5: the benchmark's two layers, forward, MSE on v_max, backward through both.
Action TwoLayers(int dop)
{
  var l1 = new Tempotron(12544, 100, 100, seed: 1) { MaxDegreeOfParallelism = dop };
  var l2 = new Tempotron(100, 10, 100, seed: 2) { MaxDegreeOfParallelism = dop };
  var s1 = new float[64 * 100]; var vMax = new float[640]; var dv = new float[640]; var dS1 = new float[64 * 100];
  var dW1 = new float[l1.WeightCount]; var dW2 = new float[l2.WeightCount];
  return () =>
  {
    l1.SpikeTimes(spikes, 64, s1);
    l2.MaxVoltage(s1, 64, vMax);
    l2.LossBackward(vMax, labels, dv);
    l2.MaxVoltageBackward(s1, 64, dv, dW2, dS1);
    l1.SpikeTimesBackward(spikes, 64, dS1, dW1, []);
  };
}

static string Here([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
