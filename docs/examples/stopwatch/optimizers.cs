#:project ../../../Core/Core.csproj

// Stopwatch timing of one optimizer step over 1.25 M parameters (a 12544 x 100 layer): Adam, and SGD with momentum.
// Minimum over 7 blocks of 20 steps. Run it against two checkouts, alternating, to compare them:
//   dotnet run -c Release docs/examples/stopwatch/optimizers.cs
using System.Diagnostics;
using TimingBased.Optimizers;

const int N = 12544 * 100;
var rng = new Random(1);
var p = new float[N];
var g = new float[N];
for (var k = 0; k < N; k++)
{
    p[k] = (float)(rng.NextDouble() - 0.5);
    g[k] = (float)((rng.NextDouble() - 0.5) * 1e-3);
}

var adam = new Adam(1e-5f);
var sgd = new Sgd(1e-5f, momentum: 0.9f);
double bestAdam = double.MaxValue, bestSgd = double.MaxValue;
for (var block = 0; block < 7; block++)
{
    var clock = Stopwatch.StartNew();
    for (var i = 0; i < 20; i++)
    {
        adam.Step(p, g);
    }

    bestAdam = Math.Min(bestAdam, clock.Elapsed.TotalMilliseconds / 20);
    clock.Restart();
    for (var i = 0; i < 20; i++)
    {
        sgd.Step(p, g);
    }

    bestSgd = Math.Min(bestSgd, clock.Elapsed.TotalMilliseconds / 20);
}

Console.WriteLine($"Adam {bestAdam:F3} ms, SGD with momentum {bestSgd:F3} ms per step of {N / 1e6:F2} M parameters");
