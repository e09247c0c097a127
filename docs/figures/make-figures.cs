#:project ../../Core/Core.csproj
#:package ScottPlot
#:package SkiaSharp.NativeAssets.Linux.NoDependencies

// Draws every figure in the docs from the library itself, into docs/figures/.
//   dotnet run -c Release docs/figures/make-figures.cs
// ScottPlot is a dependency of this program only: never of Core, the tests or the README's two commands.
using System.Globalization;
using System.Runtime.CompilerServices;
using ScottPlot;
using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var here = Here();
var docs = Path.GetFullPath(Path.Combine(here, ".."));
var only = args.Length > 0 ? new HashSet<string>(args) : null;
bool Want(string name) => only is null || only.Contains(name);

if (Want("receptive-fields"))
{
    ReceptiveFields(Path.Combine(here, "receptive-fields.png"));
}

if (Want("psp-kernel"))
{
    PspKernel(Path.Combine(here, "psp-kernel.png"));
}

if (Want("mnist-learning-curves"))
{
    LearningCurves(Path.Combine(here, "mnist-learning-curves.png"), Path.Combine(docs, "examples", "results"));
}

if (Want("mnist-voltage-traces"))
{
    MnistTraces(Path.Combine(here, "mnist-voltage-traces.png"), Path.Combine(docs, "examples", "data"));
}

if (Want("exact-traces"))
{
    ExactTraces(Path.Combine(here, "exact-traces.png"));
}

if (Want("early-decision"))
{
    EarlyDecision(Path.Combine(here, "early-decision.png"), Path.Combine(docs, "examples", "results"));
}

if (Want("capacity"))
{
    Capacity(Path.Combine(here, "capacity.png"), Path.Combine(docs, "examples", "results"));
}

if (Want("width-sweep"))
{
    WidthSweep(Path.Combine(here, "width-sweep.png"), Path.Combine(docs, "..", "Benchmarks", "results", "BenchmarkRun-current-report.csv"));
}

if (Want("multi-spike-learning"))
{
    MultiSpikeLearning(Path.Combine(here, "multi-spike-learning.png"), Path.Combine(docs, "examples", "results", "multi-spike-aggregate.csv"));
}

if (Want("multi-spike-trace"))
{
    MultiSpikeTrace(Path.Combine(here, "multi-spike-trace.png"));
}

if (Want("spike-threshold-surface"))
{
    SpikeThresholdSurface(Path.Combine(here, "spike-threshold-surface.png"));
}

if (Want("thread-scaling"))
{
    ThreadScaling(Path.Combine(here, "thread-scaling.png"), Path.Combine(docs, "examples", "results", "thread-scaling.csv"));
}

if (Want("libtorch-peer"))
{
    LibtorchPeer(Path.Combine(here, "libtorch-peer.png"), Path.Combine(docs, "examples", "results", "libtorch-peer.txt"));
}

return 0;

static string Here([CallerFilePath] string path = "") => Path.GetDirectoryName(path)!;

static void Save(Plot plot, string path, int width = 800, int height = 420)
{
    plot.SavePng(path, width, height);
    Console.WriteLine($"wrote {path}");
}

static double[] Range(double from, double to, int count) =>
    [.. Enumerable.Range(0, count).Select(k => from + ((to - from) * k / (count - 1)))];

// (1) GaussianTuning's receptive fields for m = 8 on [0, 1], with one value's spike times marked.
static void ReceptiveFields(string path)
{
    const int m = 8;
    var encoder = new GaussianTuning(1, m, [0f], [1f]);
    var plot = new Plot();
    var xs = Range(-0.3, 1.3, 400);
    var mu = encoder.Mu;
    var sigma2 = encoder.Sigma2[0];
    const float x = 0.37f;
    const int maxSpikeTime = 100;
    var spikes = new float[m];
    encoder.Encode([x], 1, maxSpikeTime, spikes);
    for (var j = 0; j < m; j++)
    {
        var c = mu[j];
        var line = plot.Add.Scatter(xs, [.. xs.Select(v => Math.Exp(-((v - c) * (v - c)) / (2 * sigma2)))]);
        line.MarkerSize = 0;
        line.LineWidth = 1.5f;
        line.LegendText = $"neuron {j + 1}: " + (spikes[j] >= 0 ? $"t = {spikes[j]:0}" : "no spike");
        if (spikes[j] >= 0)
        {
            var marker = plot.Add.Marker(x, 1 - (spikes[j] / (double)maxSpikeTime));
            marker.Color = line.Color;
            marker.Size = 9;
        }
    }

    var at = plot.Add.VerticalLine(x);
    at.LinePattern = LinePattern.Dashed;
    at.Color = Colors.Gray;
    plot.Title($"GaussianTuning receptive fields, m = {m}; spike times of x = {x}, maxSpikeTime = {maxSpikeTime}");
    plot.XLabel("x");
    plot.YLabel("response exp(-(x - mu)^2 / (2 sigma^2))");
    plot.ShowLegend(Edge.Right); // beside the plot: nothing drawn is covered
    Save(plot, path, 950, 420);
}

// (2) The PSP kernel with tPeak and both normalisations: peak = 1 (the paper) and peak = threshold (SpikingJelly).
static void PspKernel(string path)
{
    const double tau = 15, tauS = 3.75, threshold = 2.5;
    var grid = new Tempotron(1, 1, 100, [1f], tau, tauS, threshold);
    var exact = new ExactTempotron(1, 1, 100, tau, tauS);
    var ts = Range(0, 80, 400);
    var plot = new Plot();
    var paper = plot.Add.Scatter(ts, [.. ts.Select(t => exact.V0 * (Math.Exp(-t / tau) - Math.Exp(-t / tauS)))]);
    paper.MarkerSize = 0;
    paper.LineWidth = 2;
    paper.LegendText = $"ExactTempotron: V0 = {exact.V0:0.000}, peak 1 (the paper)";
    var sj = plot.Add.Scatter(ts, [.. ts.Select(t => grid.V0 * (Math.Exp(-t / tau) - Math.Exp(-t / tauS)))]);
    sj.MarkerSize = 0;
    sj.LineWidth = 2;
    sj.LegendText = $"Tempotron (SpikingJelly): V0 = {grid.V0:0.000}, peak = threshold {threshold}";
    var steps = Enumerable.Range(0, 81).Select(t => (double)t).ToArray();
    var v = new float[100];
    grid.Voltage([0f], 1, v);
    var dots = plot.Add.ScatterPoints(steps, [.. steps.Select(t => (double)v[(int)t])]);
    dots.MarkerSize = 4;
    dots.Color = sj.Color;
    dots.LegendText = "Tempotron.Voltage on its integer grid";
    var peak = plot.Add.VerticalLine(grid.TPeak);
    peak.LinePattern = LinePattern.Dashed;
    peak.Color = Colors.Gray;
    peak.LegendText = $"tPeak = tau tauS ln(tau/tauS)/(tau - tauS) = {grid.TPeak:0.000}";
    plot.Title("PSP kernel K(u) = V0 (exp(-u/tau) - exp(-u/tauS)), tau = 15, tauS = 3.75");
    plot.XLabel("u = t - t_i");
    plot.YLabel("K(u)");
    plot.ShowLegend(Alignment.UpperRight);
    Save(plot, path);
}

// (3) Learning curves of the MNIST example's logged runs: train and validation accuracy per epoch, and the test
// accuracy, measured once, at the epoch the validation chose. The default run is the first 100 epochs of the longer
// one (same seed, same code), so it is marked rather than drawn twice.
static void LearningCurves(string path, string results)
{
    var plot = new Plot();
    foreach (var (file, label) in new[] { ("longer-300-epochs", "SGD, 300 epochs"), ("adam-30-epochs", "Adam, 30 epochs") })
    {
        var rows = File.ReadAllLines(Path.Combine(results, file + ".csv")).Skip(1).Select(l => l.Split(',')).ToArray();
        var epochs = rows.Select(r => double.Parse(r[0], CultureInfo.InvariantCulture)).ToArray();
        var train = plot.Add.Scatter(epochs, [.. rows.Select(r => 100 * double.Parse(r[2], CultureInfo.InvariantCulture))]);
        train.MarkerSize = 0;
        train.LegendText = $"{label}: train";
        var validation = plot.Add.Scatter(epochs, [.. rows.Select(r => 100 * double.Parse(r[3], CultureInfo.InvariantCulture))]);
        validation.MarkerSize = 0;
        validation.LinePattern = LinePattern.Dashed;
        validation.Color = train.Color;
        validation.LegendText = $"{label}: validation";
        var (epoch, test) = ChosenEpoch(Path.Combine(results, file + ".txt"));
        var marker = plot.Add.Marker(epoch, test);
        marker.Color = train.Color;
        marker.Size = 10;
        marker.LegendText = $"{label}: test, once, at epoch {epoch} ({test:0.00} %)";
    }

    var defaultRun = ChosenEpoch(Path.Combine(results, "default-100-epochs.txt"));
    var end = plot.Add.VerticalLine(100);
    end.LinePattern = LinePattern.Dotted;
    end.Color = Colors.Gray;
    end.LegendText = $"end of the default run (test {defaultRun.Test:0.00} % at epoch {defaultRun.Epoch})";
    plot.Title("Tempotron on MNIST (shipped subset): accuracy per epoch");
    plot.XLabel("epoch");
    plot.YLabel("accuracy (%)");
    plot.ShowLegend(Edge.Right);
    Save(plot, path, 1000, 420);
}

// The MNIST example's closing line: "test accuracy 77.71 % at epoch 97, chosen on validation accuracy ...".
static (int Epoch, double Test) ChosenEpoch(string log)
{
    var line = File.ReadAllLines(log).Last(l => l.StartsWith("test accuracy ", StringComparison.Ordinal));
    var words = line.Split(' ');
    return (int.Parse(words[6].TrimEnd(','), CultureInfo.InvariantCulture), double.Parse(words[2], CultureInfo.InvariantCulture));
}

// (4) Voltage traces of a trained MNIST tempotron's 10 outputs for one test digit.
static void MnistTraces(string path, string data)
{
    const int m = 16, T = 100, batch = 64, epochs = 30;
    var images = IdxFile.ReadImages(Path.Combine(data, "train-images-idx3-ubyte.gz"));
    var labels = IdxFile.ReadLabels(Path.Combine(data, "train-labels-idx1-ubyte.gz"));
    var testImages = IdxFile.ReadImages(Path.Combine(data, "t10k-images-idx3-ubyte.gz"));
    var testLabels = IdxFile.ReadLabels(Path.Combine(data, "t10k-labels-idx1-ubyte.gz"));
    var encoder = new GaussianTuning(1, m, [0f], [1f]);
    var model = new Tempotron(784 * m, 10, T, seed: 0);
    var trainer = new TempotronTrainer(model, new Sgd(1e-3f));
    var pixels = new float[batch * 784];
    var spikes = new float[batch * 784 * m];
    var y = new int[batch];
    for (var epoch = 0; epoch < epochs; epoch++)
    {
        for (var start = 0; start + batch <= images.Count; start += batch)
        {
            for (var k = 0; k < batch * 784; k++)
            {
                pixels[k] = images.Pixels[(start * 784) + k] / 255f;
            }

            for (var b = 0; b < batch; b++)
            {
                y[b] = labels[start + b];
            }

            encoder.Encode(pixels, batch, T, spikes);
            trainer.Step(spikes, y);
        }
    }

    var one = new float[784];
    const int digit = 0;
    for (var k = 0; k < 784; k++)
    {
        one[k] = testImages.Pixels[(digit * 784) + k] / 255f;
    }

    var oneSpikes = new float[784 * m];
    encoder.Encode(one, 1, T, oneSpikes);
    var v = new float[10 * T];
    model.Voltage(oneSpikes, 1, v);
    var vMax = new float[10];
    model.MaxVoltage(oneSpikes, 1, vMax);
    var winner = Array.IndexOf(vMax, vMax.Max());
    var plot = new Plot();
    var steps = Enumerable.Range(0, T).Select(t => (double)t).ToArray();
    for (var o = 0; o < 10; o++)
    {
        var line = plot.Add.Scatter(steps, [.. v.AsSpan(o * T, T).ToArray().Select(x => (double)x)]);
        line.MarkerSize = 0;
        line.LineWidth = o == winner ? 3 : 1;
        line.Color = o == winner ? Colors.Red : Colors.Gray.WithAlpha(0.7);
        if (o == winner)
        {
            line.LegendText = $"output {o} (the prediction; label {testLabels[digit]})";
        }
    }

    var threshold = plot.Add.HorizontalLine(model.VThreshold);
    threshold.LinePattern = LinePattern.Dashed;
    threshold.Color = Colors.Black;
    threshold.LegendText = "threshold";
    plot.Title($"Trained Tempotron (12544 -> 10): V[t] of the 10 outputs, test digit {digit}");
    plot.XLabel("t (steps)");
    plot.YLabel("V");
    plot.ShowLegend(Alignment.UpperRight);
    Save(plot, path);
}

// (5) The exact model: a trained capacity-task neuron on one "fire" and one "silent" pattern.
static void ExactTraces(string path)
{
    const int n = 200, p = 200;
    var rng = new Random(3);
    var events = new SpikeEvents(n);
    var afferents = Enumerable.Range(0, n).ToArray();
    var times = new double[n];
    var targets = new bool[p];
    for (var k = 0; k < p; k++)
    {
        for (var i = 0; i < n; i++)
        {
            times[i] = rng.NextDouble() * 500;
        }

        events.AddPattern(afferents, times);
        targets[k] = k % 2 == 0;
    }

    var model = new ExactTempotron(n, 1);
    model.RandomizeWeights(3);
    var rule = new TempotronRule(model, 3e-4, 0.99);
    var cycles = 0;
    while (rule.Cycle(events, targets) > 0 && cycles++ < 1000)
    {
    }

    var results = new ExactTempotronOutput[p];
    model.Evaluate(events, results);
    var ts = Range(0, 500, 2001);
    var plot = new Plot();
    foreach (var (k, color, name) in new[] { (0, Colors.Blue, "\"fire\" pattern"), (1, Colors.Gray, "\"silent\" pattern") })
    {
        var shunted = new double[ts.Length];
        var unshunted = new double[ts.Length];
        model.Voltage(events[k], 0, ts, shunted: true, shunted);
        model.Voltage(events[k], 0, ts, shunted: false, unshunted);
        var line = plot.Add.Scatter(ts, shunted);
        line.MarkerSize = 0;
        line.LineWidth = 2;
        line.Color = color;
        if (results[k].Fired)
        {
            // Drawn after the shunted trace, thinner, in another colour: it departs from it at the crossing.
            var dashed = plot.Add.Scatter(ts, unshunted);
            dashed.MarkerSize = 0;
            dashed.LineWidth = 1.5f;
            dashed.LinePattern = LinePattern.Dashed;
            dashed.Color = Colors.Orange;
            dashed.LegendText = $"{name}, without shunting";
        }

        line.LegendText = results[k].Fired
            ? $"{name}: V(t), shunted after the crossing at t_c = {results[k].CrossingTime:0.000} ms"
            : $"{name}: V(t), vMax = {results[k].VMax:0.000} at {results[k].TMax:0.0} ms";
        if (results[k].Fired)
        {
            var cross = plot.Add.Marker(results[k].CrossingTime, model.Threshold);
            cross.Color = Colors.Red;
            cross.Size = 10;
        }
    }

    var threshold = plot.Add.HorizontalLine(model.Threshold);
    threshold.LinePattern = LinePattern.Dotted;
    threshold.Color = Colors.Black;
    threshold.LegendText = "threshold theta = 1";
    plot.Title($"ExactTempotron, N = {n}, after {cycles} cycles on {p} patterns");
    plot.XLabel("t (ms)");
    plot.YLabel("V(t)");
    plot.ShowLegend(Edge.Bottom); // below the plot: the traces stay visible
    Save(plot, path, 900, 520);
}

// (6) The capacity experiment: fraction learned and median cycles against alpha.
static void Capacity(string path, string results)
{
    var plot = new Plot();
    foreach (var (file, label) in new[] { ("capacity-default.csv", "N = 200, 500 cycles (default)"), ("capacity-full.csv", "N = 500, 2000 cycles") })
    {
        var full = Path.Combine(results, file);
        if (!File.Exists(full))
        {
            continue;
        }

        var rows = File.ReadAllLines(full).Skip(1).Select(l => l.Split(',')).ToArray();
        var alpha = rows.Select(r => double.Parse(r[0], CultureInfo.InvariantCulture)).ToArray();
        var fraction = plot.Add.Scatter(alpha, [.. rows.Select(r => double.Parse(r[4], CultureInfo.InvariantCulture))]);
        fraction.LegendText = $"{label}: fraction learned (left)";
        fraction.LineWidth = 2;
        var cycles = plot.Add.Scatter(alpha, [.. rows.Select(r => double.Parse(r[5], CultureInfo.InvariantCulture))]);
        cycles.Axes.YAxis = plot.Axes.Right;
        cycles.LinePattern = LinePattern.Dashed;
        cycles.Color = fraction.Color;
        cycles.LegendText = $"{label}: median cycles of the learned tasks (right)";
    }

    plot.Title("Tempotron capacity on random-latency patterns, P = alpha N");
    plot.XLabel("alpha = P / N");
    plot.Axes.Left.Label.Text = "fraction of tasks learned";
    plot.Axes.Right.Label.Text = "median cycles";
    plot.ShowLegend(Edge.Bottom); // below the plot: no point is covered
    Save(plot, path);
}

// (7) Early decision on MNIST: the fraction of test digits decided by time t and the accuracy among them.
static void EarlyDecision(string path, string results)
{
    var rows = File.ReadAllLines(Path.Combine(results, "early-decision.csv")).Skip(1).Select(l => l.Split(',')).ToArray();
    double P(string v) => double.Parse(v, CultureInfo.InvariantCulture);
    var t = rows.Select(r => P(r[0])).ToArray();
    var plot = new Plot();
    var decided = plot.Add.Scatter(t, [.. rows.Select(r => 100 * P(r[1]))]);
    decided.LegendText = "digits decided by a crossing by t (%)";
    decided.LineWidth = 2;
    var withAccuracy = rows.Where(r => r[2].Length > 0).ToArray(); // empty before the first crossing
    var accuracy = plot.Add.Scatter(withAccuracy.Select(r => P(r[0])).ToArray(), withAccuracy.Select(r => 100 * P(r[2])).ToArray());
    accuracy.LegendText = "accuracy of the digits decided by a crossing by t (%)";
    accuracy.LineWidth = 2;
    var full = plot.Add.HorizontalLine(100 * P(rows[0][3]));
    full.LinePattern = LinePattern.Dashed;
    full.Color = Colors.Gray;
    full.LegendText = $"full-window accuracy (argmax vMax at T): {100 * P(rows[0][3]):0.00} %";
    plot.Title("MNIST, first output to reach the threshold decides (StreamingTempotron)");
    plot.XLabel("t (steps)");
    plot.YLabel("%");
    plot.Axes.SetLimitsY(0, 105);
    plot.ShowLegend(Edge.Bottom);
    Save(plot, path);
}

// (8) The width sweep from the checked-in benchmark report: per-sample time of the forward and the training step
// against their floors (the input and the weight rows the spikes touch), out = 10 .. 1024.
static void WidthSweep(string path, string report)
{
    var lines = File.ReadAllLines(report);
    var header = SplitCsv(lines[0]);
    int Column(string name) => Array.IndexOf(header, name);
    var (type, method, outs, mean) = (Column("Type"), Column("Method"), Column("Out"), Column("Mean"));
    var rows = lines.Skip(1).Select(SplitCsv).Where(r => type < 0 || r[type] == "WidthBenchmarks").ToArray(); // a one-class report has no Type column
    var plot = new Plot();
    // The "Floor" benchmarks time a memory-traffic model (the input and the weight rows the spikes touch), a reference
    // to read the measurements against, not a bound they cannot beat: caches let the forward come in under it.
    foreach (var (name, label, dashed) in new[] { ("Forward", "forward MaxVoltage", false), ("FloorForward", "forward: traffic reference", true), ("Step", "training step", false), ("FloorStep", "training step: traffic reference", true) })
    {
        var points = rows.Where(r => r[method] == name).Select(r => (Out: double.Parse(r[outs], CultureInfo.InvariantCulture), Us: Microseconds(r[mean]) / 64)).OrderBy(p => p.Out).ToArray();
        var line = plot.Add.Scatter(points.Select(p => Math.Log10(p.Out)).ToArray(), points.Select(p => Math.Log10(p.Us)).ToArray());
        line.LegendText = label;
        line.LineWidth = 2;
        if (dashed)
        {
            line.LinePattern = LinePattern.Dashed;
        }
    }

    var ticks = new[] { 10.0, 32, 100, 256, 1024 };
    plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks.Select(Math.Log10).ToArray(), ticks.Select(t => t.ToString(CultureInfo.InvariantCulture)).ToArray());
    var yTicks = new[] { 1.0, 3, 10, 30, 100, 300, 1000, 3000 };
    plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(yTicks.Select(Math.Log10).ToArray(), yTicks.Select(t => t.ToString(CultureInfo.InvariantCulture)).ToArray());
    plot.Title("Width sweep, in = 12544, batch 64 (BenchmarkDotNet, one run)");
    plot.XLabel("outputs");
    plot.YLabel("µs per sample (log)");
    plot.ShowLegend(Edge.Right);
    Save(plot, path);
}

// (9) Thread scaling from docs/examples/thread-scaling.cs: the machine's capacity (two single-threaded copies at once)
// against the library's speed-up at MaxDegreeOfParallelism = 2.
static void ThreadScaling(string path, string csv)
{
    var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',')).ToArray();
    var plot = new Plot();
    var capacity = rows.Select((r, k) => new Bar { Position = (3 * k) + 0, Value = double.Parse(r[5], CultureInfo.InvariantCulture), FillColor = Colors.Gray }).ToList();
    var speedup = rows.Select((r, k) => new Bar { Position = (3 * k) + 1, Value = double.Parse(r[6], CultureInfo.InvariantCulture), FillColor = Colors.SteelBlue }).ToList();
    plot.Add.Bars(capacity).LegendText = "capacity: 2 x one copy / two copies at once";
    plot.Add.Bars(speedup).LegendText = "speed-up at MaxDegreeOfParallelism = 2";
    plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(rows.Select((_, k) => (3.0 * k) + 0.5).ToArray(), rows.Select(r => r[0]).ToArray());
    var target = plot.Add.HorizontalLine(1.0);
    target.Color = Colors.Black;
    plot.Axes.SetLimitsY(0, 2.6); // room above the bars for the legend
    plot.Title("Two threads against what the machine gives (Stopwatch, one run)");
    plot.YLabel("x one thread");
    plot.ShowLegend(Alignment.UpperRight);
    Save(plot, path);
}

// (10) The aggregate-label example's learning curves: held-out error rate, and each feature's spikes per occurrence.
static void MultiSpikeLearning(string path, string csv)
{
    var rows = File.ReadAllLines(csv).Skip(1).Select(l => l.Split(',').Select(v => double.Parse(v, CultureInfo.InvariantCulture)).ToArray()).ToArray();
    var cycles = rows.Select(r => r[0]).ToArray();
    var plot = new Plot();
    var error = plot.Add.Scatter(cycles, [.. rows.Select(r => r[2])]);
    error.LegendText = "held-out error rate";
    error.LineWidth = 2;
    error.Color = Colors.Black;
    for (var f = 0; f < 5; f++)
    {
        var feature = plot.Add.Scatter(cycles, [.. rows.Select(r => r[4 + f])]);
        feature.LegendText = f == 0 ? "target feature: spikes per occurrence" : $"distractor {f}: spikes per occurrence";
        feature.LineWidth = f == 0 ? 2.5f : 1.5f;
        feature.MarkerSize = f == 0 ? 6 : 3;
    }

    var background = plot.Add.Scatter(cycles, [.. rows.Select(r => r[9])]);
    background.LegendText = "background: spikes per trial (intercept)";
    background.LinePattern = LinePattern.Dashed;
    background.Color = Colors.Gray;
    plot.Title("Multi-spike tempotron, aggregate-label task (N = 500, 5 Hz, five 50 ms features)");
    plot.XLabel("learning cycle (100 trials each)");
    plot.YLabel("rate / spikes");
    plot.ShowLegend(Edge.Right);
    Save(plot, path, 1000, 420);
}

// (11) A trained multi-spike tempotron on one held-out trial: V(t), its spikes, the hidden feature occurrences.
static void MultiSpikeTrace(string path)
{
    var options = new AggregateLabelTaskOptions();
    var task = new AggregateLabelTask(options, seed: 1);
    var counts = new int[options.Features];
    var heldOut = new SpikeEvents(options.Afferents);
    var onsets = new List<(int Feature, double Onset)>();
    var duration = 0.0;
    for (var attempt = 0; attempt < 50; attempt++)
    {
        heldOut.Clear();
        duration = task.NextTrial(heldOut, counts, onsets);
        if (counts[0] >= 2 && counts.Skip(1).Sum() >= 2)
        {
            break; // a trial with two target occurrences and some distractors
        }
    }

    var model = new MultiSpikeTempotron(options.Afferents, 1, 1100);
    model.RandomizeWeights(seed: 2, standardDeviation: 0.01);
    var rule = new MultiSpikeRule(model, 1e-3, momentum: 0.9);
    var train = new SpikeEvents(options.Afferents);
    var desired = new int[100];
    for (var cycle = 0; cycle < 10; cycle++)
    {
        train.Clear();
        for (var p = 0; p < 100; p++)
        {
            task.NextTrial(train, counts);
            desired[p] = counts[0];
        }

        rule.Cycle(train, desired);
    }

    var ts = Range(0, duration, 3000);
    var v = new double[ts.Length];
    model.Voltage(heldOut[0], 0, ts, v);
    var spikes = new double[16];
    var n = model.Spikes(heldOut[0], 0, spikes);
    var plot = new Plot();
    foreach (var (feature, onset) in onsets)
    {
        var span = plot.Add.HorizontalSpan(onset, onset + options.FeatureDuration);
        span.FillStyle.Color = (feature == 0 ? Colors.Red : Colors.Gray).WithAlpha(feature == 0 ? 0.25 : 0.15);
        span.LineStyle.Width = 0;
    }

    var trace = plot.Add.Scatter(ts, v);
    trace.MarkerSize = 0;
    trace.LineWidth = 1.5f;
    trace.Color = Colors.Blue;
    trace.LegendText = "V(t)";
    var threshold = plot.Add.HorizontalLine(model.Threshold);
    threshold.LinePattern = LinePattern.Dotted;
    threshold.Color = Colors.Black;
    threshold.LegendText = "threshold";
    var marks = plot.Add.ScatterPoints(spikes[..n], [.. Enumerable.Repeat(model.Threshold, n)]);
    marks.MarkerSize = 10;
    marks.Color = Colors.Red;
    marks.LegendText = $"output spikes ({n}; target occurrences {onsets.Count(o => o.Feature == 0)})";
    plot.Title("Trained multi-spike tempotron on a held-out trial (red bands: target feature; grey: distractors)");
    plot.XLabel("t (ms)");
    plot.YLabel("V(t)");
    plot.ShowLegend(Edge.Bottom);
    Save(plot, path, 1000, 460);
}

// (12) The spike-threshold surface N(theta) of one pattern, with the critical thresholds theta*_k marked.
static void SpikeThresholdSurface(string path)
{
    var options = new AggregateLabelTaskOptions { Afferents = 100, MeanOccurrences = 0 };
    var task = new AggregateLabelTask(options, seed: 5);
    var events = new SpikeEvents(options.Afferents);
    task.NextTrial(events, new int[options.Features]);
    var model = new MultiSpikeTempotron(options.Afferents, 1, options.BackgroundDuration);
    model.RandomizeWeights(seed: 6, standardDeviation: 0.15);
    var top = model.CriticalThreshold(events[0], 0, 1).Theta;
    var thetas = Range(top / 12, top * 1.15, 800);
    var counts = thetas.Select(t => (double)model.SpikeCount(events[0], 0, t)).ToArray();
    var plot = new Plot();
    var surface = plot.Add.Scatter(thetas, counts);
    surface.ConnectStyle = ConnectStyle.StepVertical;
    surface.MarkerSize = 0;
    surface.LineWidth = 2;
    surface.LegendText = "N(theta)";
    for (var k = 1; k <= 8; k++)
    {
        var critical = model.CriticalThreshold(events[0], 0, k);
        var line = plot.Add.VerticalLine(critical.Theta);
        line.LinePattern = LinePattern.Dashed;
        line.Color = Colors.Red.WithAlpha(0.6);
        line.LineWidth = 1;
        if (k == 1)
        {
            line.LegendText = "theta*_k, k = 1 .. 8 (right to left)";
        }
    }

    plot.Title("Spike-threshold surface of one pattern (N = 100, 500 ms at 5 Hz)");
    plot.XLabel("threshold theta");
    plot.YLabel("output spikes N(theta)");
    plot.ShowLegend(Alignment.UpperRight);
    Save(plot, path);
}

// The median rows of docs/examples/libtorch-peer.cs's table: "| **W2 forward** | median | 1,155.5 ms | 450 µs | **2,549×** |";
// where the file holds several runs of a workload (later runs appended), the last one.
static void LibtorchPeer(string path, string table)
{
    var rows = File.ReadAllLines(table).Where(l => l.Contains("| median |", StringComparison.Ordinal))
        .Select(l => l.Split('|', StringSplitOptions.TrimEntries))
        .GroupBy(r => r[1]).Select(g => g.Last()).ToArray();
    var plot = new Plot();
    var torch = rows.Select((r, k) => new Bar { Position = (3 * k) + 0, Value = Math.Log10(Microseconds(r[3])), FillColor = Colors.Gray }).ToList();
    var library = rows.Select((r, k) => new Bar { Position = (3 * k) + 1, Value = Math.Log10(Microseconds(r[4])), FillColor = Colors.SteelBlue }).ToList();
    plot.Add.Bars(torch).LegendText = "SpikingJelly's algorithm on libtorch, one thread";
    plot.Add.Bars(library).LegendText = "TimingBased, one thread";
    for (var k = 0; k < rows.Length; k++)
    {
        var ratio = plot.Add.Text(rows[k][5].Replace("*", "", StringComparison.Ordinal), (3 * k) + 0.5, library[k].Value + 0.3);
        ratio.LabelFontSize = 14;
        ratio.LabelAlignment = Alignment.LowerCenter;
    }

    plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(rows.Select((_, k) => (3.0 * k) + 0.5).ToArray(),
        rows.Select(r => r[1].Replace("*", "", StringComparison.Ordinal)).ToArray());
    double[] decades = [0, 1, 2, 3, 4, 5, 6, 7];
    plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual(decades, ["1 µs", "10 µs", "100 µs", "1 ms", "10 ms", "100 ms", "1 s", "10 s"]);
    plot.Axes.SetLimitsY(0, 7.8);
    plot.Title("The libtorch peer: time per call, same process (median of 5 rounds)");
    plot.ShowLegend(Alignment.UpperRight);
    Save(plot, path);
}

static string[] SplitCsv(string line)
{
    var fields = new List<string>();
    var field = new System.Text.StringBuilder();
    var quoted = false;
    foreach (var c in line)
    {
        if (c == '"')
        {
            quoted = !quoted;
        }
        else if (c == ',' && !quoted)
        {
            fields.Add(field.ToString());
            field.Clear();
        }
        else
        {
            field.Append(c);
        }
    }

    fields.Add(field.ToString());
    return [.. fields];
}

static double Microseconds(string value)
{
    var parts = value.Replace(",", "", StringComparison.Ordinal).Split(' ');
    var number = double.Parse(parts[0], CultureInfo.InvariantCulture);
    return parts[1] switch
    {
        "ns" => number / 1000,
        "μs" or "µs" or "us" => number,
        "ms" => number * 1000,
        "s" => number * 1e6,
        _ => throw new FormatException($"unknown unit in '{value}'"),
    };
}
