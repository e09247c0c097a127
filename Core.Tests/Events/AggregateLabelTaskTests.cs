using TimingBased.Events;

namespace TimingBased.Tests.Events;

public class AggregateLabelTaskTests
{
    [Test]
    public void Trials_AreSeeded_TimeOrdered_AndHoldEachOccurrenceOfItsFeature()
    {
        var options = new AggregateLabelTaskOptions { Afferents = 50, MeanOccurrences = 1.5 };
        var a = new AggregateLabelTask(options, seed: 7);
        var b = new AggregateLabelTask(options, seed: 7);
        var ea = new SpikeEvents(50);
        var eb = new SpikeEvents(50);
        var counts = new int[options.Features];
        var countsB = new int[options.Features];
        var onsets = new List<(int Feature, double Onset)>();
        var sawTwo = false;
        var sawRepeat = false;
        for (var t = 0; t < 20; t++)
        {
            var duration = a.NextTrial(ea, counts, onsets);
            b.NextTrial(eb, countsB);
            Assert.That(countsB, Is.EqualTo(counts), "seeded");
            Assert.That(eb[t].Times.ToArray(), Is.EqualTo(ea[t].Times.ToArray()));
            Assert.That(duration, Is.EqualTo(options.BackgroundDuration + (counts.Sum() * options.FeatureDuration)));
            Assert.That(onsets.Count, Is.EqualTo(counts.Sum()));
            Assert.That(ea[t].IsTimeOrdered, Is.True);
            Assert.That(ea[t].Times[^1], Is.LessThan(duration));
            sawTwo |= counts.Max() >= 2;

            // Every occurrence of a feature is the same spike pattern shifted to its onset, and nothing else falls in its
            // span (the background is cut there and resumes after it).
            var first = onsets.Where(o => o.Feature == 0).Select(o => o.Onset).ToArray();
            if (first.Length >= 2)
            {
                sawRepeat = true;
                Assert.That(Window(ea[t], first[1], options.FeatureDuration), Is.EqualTo(Window(ea[t], first[0], options.FeatureDuration)));
            }
        }

        Assert.That(sawRepeat, Is.True, "some trial repeats the target feature");
        Assert.That(sawTwo, Is.True, "the draws include repeated occurrences");
    }

    /// <summary>The spikes in <c>[onset, onset + duration)</c> as (afferent, time after the onset), sorted.</summary>
    private static string[] Window(SpikePattern p, double onset, double duration)
    {
        var found = new List<string>();
        for (var k = 0; k < p.Count; k++)
        {
            if (p.Times[k] >= onset && p.Times[k] < onset + duration)
            {
                found.Add($"{p.Afferents[k]}@{Math.Round(p.Times[k] - onset, 6):F6}");
            }
        }

        found.Sort(StringComparer.Ordinal);
        return [.. found];
    }

    [Test]
    public void BadSettings_AreRefused()
    {
        Assert.That(Assert.Throws<ArgumentException>(() => _ = new AggregateLabelTask(new AggregateLabelTaskOptions { Rate = 0 }, 1))!.Message, Does.Contain("options.Rate"));
        Assert.Throws<ArgumentException>(() => _ = new AggregateLabelTask(new AggregateLabelTaskOptions { Features = 0 }, 1));
        var task = new AggregateLabelTask(new AggregateLabelTaskOptions { Afferents = 5 }, 1);
        Assert.Throws<ArgumentException>(() => task.NextTrial(new SpikeEvents(6), new int[5]));
        Assert.Throws<ArgumentException>(() => task.NextTrial(new SpikeEvents(5), new int[4]));
    }
}
