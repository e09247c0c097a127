using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Streaming;

namespace TimingBased.Tests.Streaming;

/// <summary>Both streams against the batch evaluation of the same events.</summary>
public class StreamingTests
{
    [Test]
    public void GridStream_EndsWhereTheBatchDoes([Values(1, 10, 17)] int outs, [Values] bool integerTimes)
    {
        var rng = new Random(outs + (integerTimes ? 1 : 0));
        const int inputs = 60, t = 40;
        var model = new Tempotron(inputs, outs, t, TestData.Uniform(rng, outs * inputs, -0.2f, 0.45f));
        for (var trial = 0; trial < 20; trial++)
        {
            var dense = Tests.Neurons.TempotronForwardTests.RandomSpikes(rng, inputs, t + 5, integerTimes);
            var v = new float[outs * t];
            model.Voltage(dense, 1, v);
            var vMax = new float[outs];
            model.MaxVoltage(dense, 1, vMax);

            var events = new SpikeEvents(inputs);
            events.AddDense(dense);
            events.SortByTime();
            var stream = new StreamingTempotron(model);
            var p = events[0];
            var expectedFirst = -1;
            var firstStep = double.PositiveInfinity;
            for (var o = 0; o < outs; o++)
            {
                var step = Enumerable.Range(0, t).FirstOrDefault(k => v[(o * t) + k] >= 1f, -1);
                if (step >= 0 && step < firstStep)
                {
                    (firstStep, expectedFirst) = (step, o);
                }
            }

            for (var k = 0; k < p.Count; k++)
            {
                stream.Push(p.Afferents[k], p.Times[k]);
                // Decisions are never premature: a reported crossing is a step the batch also crosses at.
                if (stream.FirstToFire >= 0)
                {
                    Assert.That(stream.CrossingTimes[stream.FirstToFire], Is.LessThanOrEqualTo(stream.Time));
                }
            }

            stream.AdvanceTo(Math.Max(t, stream.Time));
            for (var o = 0; o < outs; o++)
            {
                Assert.That(stream.MaxVoltages[o], Is.EqualTo(vMax[o]).Within(1e-5 * (1 + Math.Abs(vMax[o]))), $"trial {trial}, vMax[{o}]");
                Assert.That(stream.Voltages[o], Is.EqualTo(v[(o * t) + t - 1]).Within(1e-5 * (1 + Math.Abs(v[(o * t) + t - 1]))));
                var step = Enumerable.Range(0, t).FirstOrDefault(k => v[(o * t) + k] >= 1f, -1);
                var nearThreshold = Enumerable.Range(0, t).Any(k => Math.Abs(v[(o * t) + k] - 1f) < 1e-5);
                if (!nearThreshold)
                {
                    Assert.That(stream.CrossingTimes[o], step < 0 ? Is.NaN : Is.EqualTo((double)step), $"trial {trial}, output {o}");
                }
            }

            if (expectedFirst >= 0 && !Enumerable.Range(0, outs * t).Any(k => Math.Abs(v[k] - 1f) < 1e-5))
            {
                Assert.That(stream.FirstToFire, Is.EqualTo(expectedFirst));
            }
        }
    }

    [Test]
    public void ExactStream_EndsWhereTheBatchDoes([Values(1, 3, 10)] int outs)
    {
        var rng = new Random(outs * 11);
        const int n = 40;
        var model = new ExactTempotron(n, outs, 300);
        model.RandomizeWeights(outs, 0.25);
        for (var trial = 0; trial < 30; trial++)
        {
            var events = new SpikeEvents(n);
            for (var k = 0; k < 60; k++)
            {
                events.Add(rng.Next(n), rng.NextDouble() * 330);
            }

            events.EndPattern();
            events.SortByTime();
            var batch = new ExactTempotronOutput[outs];
            model.Evaluate(events, batch);
            var stream = new StreamingExactTempotron(model);
            var p = events[0];
            for (var k = 0; k < p.Count; k++)
            {
                stream.Push(p.Afferents[k], p.Times[k]);
                for (var o = 0; o < outs; o++)
                {
                    if (!double.IsNaN(stream.CrossingTimes[o]))
                    {
                        Assert.That(batch[o].Fired, Is.True, "a crossing the batch does not see");
                        Assert.That(stream.CrossingTimes[o], Is.EqualTo(batch[o].CrossingTime).Within(1e-9 * 300));
                    }
                }
            }

            stream.AdvanceTo(1000);
            for (var o = 0; o < outs; o++)
            {
                Assert.That(!double.IsNaN(stream.CrossingTimes[o]), Is.EqualTo(batch[o].Fired), $"trial {trial}, output {o} fired");
                if (batch[o].Fired)
                {
                    Assert.That(stream.CrossingTimes[o], Is.EqualTo(batch[o].CrossingTime).Within(1e-9 * 300));
                }
                else
                {
                    Assert.That(stream.MaxVoltages[o], Is.EqualTo(batch[o].VMax).Within(1e-9 * Math.Max(1, batch[o].VMax)));
                }
            }

            var first = Enumerable.Range(0, outs).Where(o => batch[o].Fired).OrderBy(o => batch[o].CrossingTime).ThenBy(o => o).DefaultIfEmpty(-1).First();
            Assert.That(stream.FirstToFire, Is.EqualTo(first));
            var voltages = new double[outs];
            stream.CopyVoltagesTo(voltages);
            var expected = new double[1];
            for (var o = 0; o < outs; o++)
            {
                model.Voltage(p, o, [300.0], expected);
                Assert.That(voltages[o], Is.EqualTo(expected[0]).Within(1e-9 * (1 + Math.Abs(expected[0]))), $"V(T) of output {o}");
            }
        }
    }

    [Test]
    public void EarlierTimesAndBadAfferents_ThrowAndChangeNothing()
    {
        var grid = new StreamingTempotron(new Tempotron(3, 2, 10, [1f, 1f, 1f, 1f, 1f, 1f]));
        grid.Push(0, 4);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => grid.Push(1, 3.5))!.ParamName, Is.EqualTo("time"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => grid.Push(3, 5))!.ParamName, Is.EqualTo("afferent"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => grid.AdvanceTo(double.NaN))!.ParamName, Is.EqualTo("time"));
        Assert.That(grid.Time, Is.EqualTo(4));
        var exact = new StreamingExactTempotron(new ExactTempotron(3, 1));
        exact.Push(2, 1);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => exact.Push(0, 0.5))!.ParamName, Is.EqualTo("time"));
        Assert.That(exact.Time, Is.EqualTo(1));
    }

    [Test]
    public void Events_AllocateNothing()
    {
        var model = new Tempotron(784 * 16, 10, 100, seed: 1);
        var encoder = new GaussianTuning(1, 16, [0f], [1f]);
        var events = new SpikeEvents(784 * 16);
        encoder.Encode(TestData.Uniform(new Random(1), 784, 0f, 1f), 1, 100, events);
        events.SortByTime();
        var stream = new StreamingTempotron(model);
        var exact = new StreamingExactTempotron(new ExactTempotron(784 * 16, 10, 100));
        void Run()
        {
            stream.Reset();
            exact.Reset();
            var p = events[0];
            for (var k = 0; k < p.Count; k++)
            {
                stream.Push(p.Afferents[k], p.Times[k]);
                exact.Push(p.Afferents[k], p.Times[k]);
            }
        }

        TestData.AssertSteadyStateAllocatesNothing(Run);
    }
}

/// <summary>The multi-spike stream against the batch model.</summary>
public class StreamingMultiSpikeTests
{
    [Test]
    public void Stream_FindsTheBatchModelsSpikes_AsTheyHappen([Range(0, 9)] int seed)
    {
        var task = new TimingBased.Events.AggregateLabelTask(new TimingBased.Events.AggregateLabelTaskOptions { Afferents = 60, MeanOccurrences = 1 }, seed);
        var events = new TimingBased.Events.SpikeEvents(60);
        task.NextTrial(events, new int[5]);
        var model = new TimingBased.Neurons.MultiSpikeTempotron(60, 3, 1200);
        model.RandomizeWeights(seed, 0.3);
        var stream = new TimingBased.Streaming.StreamingMultiSpikeTempotron(model);
        var pattern = events[0];
        var seen = new List<TimingBased.Streaming.OutputSpike>();
        var lastTime = 0.0;
        for (var k = 0; k < pattern.Count; k++)
        {
            var found = stream.Push(pattern.Afferents[k], pattern.Times[k]);
            Assert.That(stream.NewSpikes.Length, Is.EqualTo(found));
            foreach (var spike in stream.NewSpikes)
            {
                Assert.That(spike.Time, Is.LessThanOrEqualTo(pattern.Times[k]), "reported once the stream's time has passed it");
                Assert.That(spike.Time, Is.GreaterThanOrEqualTo(lastTime), "in time order");
                lastTime = spike.Time;
                seen.Add(spike);
            }
        }

        stream.AdvanceTo(1200);
        seen.AddRange(stream.NewSpikes.ToArray());
        var total = 0;
        for (var o = 0; o < 3; o++)
        {
            var expected = new double[256];
            var n = model.Spikes(pattern, o, expected);
            var got = seen.Where(s => s.Output == o).Select(s => s.Time).ToArray();
            Assert.That(got.Length, Is.EqualTo(n), $"output {o}");
            Assert.That(stream.Counts[o], Is.EqualTo(n));
            for (var j = 0; j < n; j++)
            {
                Assert.That(got[j], Is.EqualTo(expected[j]).Within(1e-9), $"output {o}, spike {j}");
            }

            total += n;
        }

        Assert.That(total, Is.GreaterThan(0), "the case makes spikes");
        stream.Reset();
        Assert.That(stream.Counts.ToArray(), Is.All.Zero);
        Assert.Throws<ArgumentOutOfRangeException>(() => stream.Push(60, 1.0));
    }
}
