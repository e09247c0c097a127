#:project ../../Core/Core.csproj

// Thread scaling, measured against what this machine gives: (a) one single-threaded copy alone, (b) two single-threaded
// copies at once (the capacity is 2a/b), (c) MaxDegreeOfParallelism = 2. W2 (forward MaxVoltage) and W3 (training step),
// 64 shipped digits, Stopwatch min of 7 x 200 calls.  dotnet run -c Release docs/examples/thread-scaling.cs
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
foreach (var (name, make) in new (string, Func<Tempotron, Action>)[] {
  ("W2 forward", m => { var v = new float[640]; return () => m.MaxVoltage(spikes, 64, v); }),
  ("W3 step", m => { var t = new TempotronTrainer(m, new Sgd(0f)); return () => t.Step(spikes, labels); }) })
{
  var one = make(new Tempotron(12544, 10, 100, seed: 1));
  var a = PerCall(one, 200);
  // two independent single-threaded copies at once
  var m1 = make(new Tempotron(12544, 10, 100, seed: 1)); var m2 = make(new Tempotron(12544, 10, 100, seed: 1));
  double b1 = 0, b2 = 0;
  var t1 = new Thread(() => b1 = PerCall(m1, 200)); var t2 = new Thread(() => b2 = PerCall(m2, 200));
  t1.Start(); t2.Start(); t1.Join(); t2.Join();
  var b = Math.Max(b1, b2);
  var dop2 = make(new Tempotron(12544, 10, 100, seed: 1) { MaxDegreeOfParallelism = 2 });
  var c = PerCall(dop2, 200);
  Console.WriteLine($"{name}: (a) one copy {a:0} us; (b) two copies at once {b1:0}/{b2:0} us each -> capacity {2 * a / b:0.00}x; (c) DOP 2 {c:0} us -> speed-up {a / c:0.00}x ({a / c / (2 * a / b):P0} of capacity)");
}

static string Here([System.Runtime.CompilerServices.CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;
