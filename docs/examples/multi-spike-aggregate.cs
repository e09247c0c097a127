#:project ../../Core/Core.csproj

// Aggregate-label learning with the multi-spike tempotron (Gütig 2016, the toy setting of Fig. 2): N = 500 afferents
// at 5 Hz, trials of 500 ms of background with five fixed 50 ms features inserted Poisson(0.5) times each; the label is
// the number of occurrences of feature 0 (the target); features 1-4 are distractors. The neuron is told only how many
// times to fire per trial, never when. Every cycle trains on 100 fresh trials (online rule) and reports, on 200 held-out
// trials, the error rate and each feature's response: spikes per occurrence (least squares of the output count on the
// features' counts), the intercept being the background's spikes per trial.
//   dotnet run -c Release docs/examples/multi-spike-aggregate.cs                    (40 cycles)
//   dotnet run -c Release docs/examples/multi-spike-aggregate.cs -- --cycles 100 --csv FILE.csv
using System.Diagnostics;
using System.Globalization;
using TimingBased.Events;
using TimingBased.Neurons;

CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var cycles = 40;
var lr = 1e-3;
string? csv = null;
for (var k = 0; k < args.Length; k++)
{
    string Next() => k + 1 < args.Length ? args[++k] : throw new ArgumentException($"{args[k]} needs a value");
    switch (args[k])
    {
        case "--cycles": cycles = int.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--lr": lr = double.Parse(Next(), CultureInfo.InvariantCulture); break;
        case "--csv": csv = Next(); break;
        default:
            Console.WriteLine("usage: multi-spike-aggregate.cs [--cycles 40] [--lr 0.001] [--csv FILE]");
            return args[k] is "--help" or "-h" ? 0 : 2;
    }
}

var options = new AggregateLabelTaskOptions();
var task = new AggregateLabelTask(options, seed: 1);
var features = options.Features;
const int TrialsPerCycle = 100, HeldOut = 200;

// Held-out trials, drawn once after the features.
var test = new SpikeEvents(options.Afferents);
var testCounts = new int[HeldOut * features];
for (var p = 0; p < HeldOut; p++)
{
    task.NextTrial(test, testCounts.AsSpan(p * features, features));
}

var longest = 500 + (50 * 12.0); // a window covering any trial the generator makes in practice (12 occurrences)
var model = new MultiSpikeTempotron(options.Afferents, 1, longest);
model.RandomizeWeights(seed: 2, standardDeviation: 0.01);
var rule = new MultiSpikeRule(model, lr, momentum: 0.9);
var train = new SpikeEvents(options.Afferents);
var counts = new int[TrialsPerCycle * features];
var desired = new int[TrialsPerCycle];
var lines = new List<string> { "cycle,train_errors,test_error_rate,seconds," + string.Join(",", Enumerable.Range(0, features).Select(f => $"feature{f}_spikes_per_occurrence")) + ",background_spikes" };
Console.WriteLine($"MST, N = {options.Afferents}, {options.Rate * 1000} Hz, {features} features of {options.FeatureDuration} ms (Poisson {options.MeanOccurrences}), label = count of feature 0; lr {lr}, momentum 0.9");
Console.WriteLine("cycle  train errors  test error  seconds  spikes per occurrence (feature 0 = target)  background");
var total = Stopwatch.StartNew();
for (var cycle = 1; cycle <= cycles; cycle++)
{
    train.Clear();
    for (var p = 0; p < TrialsPerCycle; p++)
    {
        task.NextTrial(train, counts.AsSpan(p * features, features));
        desired[p] = counts[p * features];
    }

    var clock = Stopwatch.StartNew();
    var errors = rule.Cycle(train, desired);
    var seconds = clock.Elapsed.TotalSeconds;
    var (errorRate, response) = Evaluate();
    Console.WriteLine($"{cycle,5}  {errors,12}  {errorRate,10:P1}  {seconds,7:F3}  {string.Join("  ", response.Take(features).Select(r => r.ToString("F2", CultureInfo.InvariantCulture)))}  {response[features]:F2}");
    lines.Add(string.Create(CultureInfo.InvariantCulture, $"{cycle},{errors},{errorRate:R},{seconds:F4},{string.Join(",", response.Select(r => r.ToString("R", CultureInfo.InvariantCulture)))}"));
}

Console.WriteLine($"total {total.Elapsed.TotalSeconds:F1} s");
if (csv is not null)
{
    File.WriteAllLines(csv, lines);
}

return 0;

// The held-out error rate, and the least-squares response per feature (spikes per occurrence) with the intercept last.
(double ErrorRate, double[] Response) Evaluate()
{
    var x = new double[HeldOut, features + 1];
    var y = new double[HeldOut];
    var wrong = 0;
    for (var p = 0; p < HeldOut; p++)
    {
        var n = model.SpikeCount(test[p], 0, model.Threshold);
        wrong += n == testCounts[p * features] ? 0 : 1;
        y[p] = n;
        for (var f = 0; f < features; f++)
        {
            x[p, f] = testCounts[(p * features) + f];
        }

        x[p, features] = 1;
    }

    return (wrong / (double)HeldOut, LeastSquares(x, y));
}

// Normal equations, solved by Gaussian elimination with partial pivoting (a 6 x 6 system).
static double[] LeastSquares(double[,] x, double[] y)
{
    var m = x.GetLength(1);
    var a = new double[m, m + 1];
    for (var r = 0; r < x.GetLength(0); r++)
    {
        for (var i = 0; i < m; i++)
        {
            for (var j = 0; j < m; j++)
            {
                a[i, j] += x[r, i] * x[r, j];
            }

            a[i, m] += x[r, i] * y[r];
        }
    }

    for (var c = 0; c < m; c++)
    {
        var pivot = c;
        for (var r = c + 1; r < m; r++)
        {
            if (Math.Abs(a[r, c]) > Math.Abs(a[pivot, c]))
            {
                pivot = r;
            }
        }

        for (var j = 0; j <= m; j++)
        {
            (a[c, j], a[pivot, j]) = (a[pivot, j], a[c, j]);
        }

        for (var r = 0; r < m; r++)
        {
            if (r != c && a[c, c] != 0)
            {
                var factor = a[r, c] / a[c, c];
                for (var j = c; j <= m; j++)
                {
                    a[r, j] -= factor * a[c, j];
                }
            }
        }
    }

    var solution = new double[m];
    for (var i = 0; i < m; i++)
    {
        solution[i] = a[i, i] == 0 ? 0 : a[i, m] / a[i, i];
    }

    return solution;
}
