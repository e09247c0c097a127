#:project ../../Core/Core.csproj

// The capacity experiment of Gütig & Sompolinsky (2006) with the exact, continuous-time tempotron: N afferents each
// fire one spike uniform in [0, 500 ms]; P = alpha N patterns, half labelled "fire" at random; the tempotron rule
// with momentum learns until a full cycle has no error or the cycle budget runs out.
//
//   dotnet run -c Release docs/examples/tempotron-capacity.cs                       (defaults, about a minute)
//   dotnet run -c Release docs/examples/tempotron-capacity.cs -- --n 500 --cycles 3000 --csv capacity.csv
using System.Diagnostics;
using System.Globalization;
using TimingBased.Events;
using TimingBased.Neurons;

var inv = CultureInfo.InvariantCulture;
var n = 200;
double[] alphas = [0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5];
var tasks = 10;
var budget = 500;
var lr = 3e-4;
var momentum = 0.99;
var seed = 1;
string? csv = null;
for (var k = 0; k < args.Length; k++)
{
    string Next() => k + 1 < args.Length ? args[++k] : throw new ArgumentException($"{args[k]} needs a value");
    switch (args[k])
    {
        case "--n": n = int.Parse(Next(), inv); break;
        case "--alphas": alphas = [.. Next().Split(',').Select(s => double.Parse(s, inv))]; break;
        case "--tasks": tasks = int.Parse(Next(), inv); break;
        case "--cycles": budget = int.Parse(Next(), inv); break;
        case "--lr": lr = double.Parse(Next(), inv); break;
        case "--momentum": momentum = double.Parse(Next(), inv); break;
        case "--seed": seed = int.Parse(Next(), inv); break;
        case "--csv": csv = Next(); break;
        default:
            Console.WriteLine("usage: tempotron-capacity.cs [--n 200] [--alphas 0.5,1,...] [--tasks 10] [--cycles 500] [--lr 3e-4] [--momentum 0.99] [--seed 1] [--csv FILE]");
            return args[k] is "--help" or "-h" ? 0 : 2;
    }
}

Console.WriteLine(string.Create(inv, $"N = {n}, tau = 15 ms, tauS = 3.75 ms, theta = 1, T = 500 ms, lr = {lr:R}, momentum = {momentum:R}, budget {budget} cycles, {tasks} tasks per alpha"));
Console.WriteLine("alpha  patterns  learned  fraction  median cycles (learned)  seconds");
var lines = new List<string> { "alpha,patterns,tasks,learned,fraction,median_cycles" };
var total = Stopwatch.StartNew();
foreach (var alpha in alphas)
{
    var p = (int)Math.Round(alpha * n);
    var cycles = new int[tasks];
    var clock = Stopwatch.StartNew();
    Parallel.For(0, tasks, task => cycles[task] = RunTask(n, p, budget, lr, momentum, (seed * 1000003) + (task * 7919) + p));
    var learned = cycles.Where(c => c >= 0).Order().ToArray();
    var median = learned.Length == 0 ? double.NaN : learned.Length % 2 == 1 ? learned[learned.Length / 2] : 0.5 * (learned[(learned.Length / 2) - 1] + learned[learned.Length / 2]);
    var fraction = (double)learned.Length / tasks;
    Console.WriteLine(string.Create(inv, $"{alpha,5:0.0}  {p,8}  {learned.Length,7}  {fraction,8:0.00}  {median,23:0.#}  {clock.Elapsed.TotalSeconds,7:0.0}"));
    lines.Add(string.Create(inv, $"{alpha:R},{p},{tasks},{learned.Length},{fraction:R},{median:R}"));
}

Console.WriteLine(string.Create(inv, $"total {total.Elapsed.TotalSeconds:0.0} s"));
if (csv is not null)
{
    File.WriteAllLines(csv, lines);
}

return 0;

// Returns the number of cycles until a cycle had no error, or -1 if the budget ran out.
static int RunTask(int n, int p, int budget, double lr, double momentum, int seed)
{
    var rng = new Random(seed);
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
        targets[k] = rng.Next(2) == 0;
    }

    var model = new ExactTempotron(n, 1);
    model.RandomizeWeights(seed);
    var rule = new TempotronRule(model, lr, momentum);
    for (var cycle = 1; cycle <= budget; cycle++)
    {
        if (rule.Cycle(events, targets) == 0)
        {
            return cycle;
        }
    }

    return -1;
}
