#:project ../../../Core/Core.csproj

// Stopwatch timing of the multi-spike tempotron's critical thresholds: theta*_k with its gradient per second, as the
// trial's events grow (N = 500 at 5 Hz, backgrounds of 125 to 2,000 ms) and as k grows (the output spikes a walk
// makes before it stops). Random weights (standard deviation 0.03), 20 trials per row, minimum of 5 rounds.
//   dotnet run -c Release docs/examples/stopwatch/multi-spike.cs
using System.Diagnostics;
using TimingBased.Events;
using TimingBased.Neurons;

var gradient = new double[500];
Console.WriteLine("events per trial   k   theta* per second   us per theta*   output spikes at theta*");
foreach (var duration in new[] { 125.0, 250, 500, 1000, 2000 })
{
    foreach (var k in duration == 500 ? new[] { 1, 2, 4, 8, 16 } : [2])
    {
        var task = new AggregateLabelTask(new AggregateLabelTaskOptions { BackgroundDuration = duration, MeanOccurrences = 0 }, seed: 1);
        var trials = new SpikeEvents(500);
        for (var p = 0; p < 20; p++)
        {
            task.NextTrial(trials, new int[5]);
        }

        var model = new MultiSpikeTempotron(500, 1, duration);
        model.RandomizeWeights(seed: 2, standardDeviation: 0.03);
        var best = double.MaxValue;
        for (var round = 0; round < 5; round++)
        {
            var clock = Stopwatch.StartNew();
            for (var p = 0; p < 20; p++)
            {
                model.CriticalThreshold(trials[p], 0, k, gradient);
            }

            best = Math.Min(best, clock.Elapsed.TotalSeconds / 20);
        }

        var spikes = 0;
        for (var p = 0; p < 20; p++)
        {
            var critical = model.CriticalThreshold(trials[p], 0, k);
            spikes += critical.IsDefined ? model.SpikeCount(trials[p], 0, critical.Theta) : 0;
        }

        Console.WriteLine($"{trials.EventCount / 20,16}  {k,2}  {1 / best,18:F0}  {best * 1e6,14:F1}  {spikes / 20.0,10:F1}");
    }
}
