using System.Reflection;
using TimingBased.Events;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;
using TimingBased.Streaming;
using TimingBased.Tests.IO;

namespace TimingBased.Tests.Hardening;

/// <summary>One test per defect that the bad-input and concurrency probe of #32 found; each failed before its fix.</summary>
public class ProbeDefectTests
{
    // ---- 1. A race on SpikeEvents, or a wrong afferent-order flag, must never steer an unchecked write ---------------

    [Test]
    public void WrongAfferentOrderFlag_OnALongPattern_TakesTheCheckedPath()
    {
        // 12 events over 4 afferents (each fires three times) claiming strict afferent order: before the fix the lists
        // were written 12 long into buffers of 4 + slack, past their end.
        var events = new SpikeEvents(4);
        int[] afferents = [0, 1, 2, 3, 0, 1, 2, 3, 0, 1, 2, 3];
        double[] times = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        events.AddPattern(afferents, times);
        ForgeAfferentOrder(events, 0);
        Assert.That(events[0].IsAfferentOrdered, Is.True, "the flag is forged");

        var model = new Tempotron(4, 2, 30, seed: 3);
        var got = new float[2];
        model.MaxVoltage(events, got);

        // The checked path lays the pattern out densely, the last time of each afferent winning.
        var expected = new float[2];
        model.MaxVoltage([9f, 10f, 11f, 12f], 1, expected);
        Assert.That(got, Is.EqualTo(expected));
    }

    [Test]
    public void ConcurrentClearAndAddPattern_WhileAModelReads_NeverCorruptsMemory()
    {
        var model = new Tempotron(64, 3, 40, seed: 1);
        var events = new SpikeEvents(64);
        var shortOrdered = Enumerable.Range(0, 8).Select(i => i * 8).ToArray();
        var longRepeated = Enumerable.Range(0, 600).Select(k => k % 64).ToArray();
        var shortTimes = shortOrdered.Select(i => (double)(i % 30)).ToArray();
        var longTimes = longRepeated.Select(k => (double)(k % 37)).ToArray();
        events.AddPattern(shortOrdered, shortTimes);
        using var stop = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500));
        var writer = Task.Run(() =>
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                events.Clear();
                if (n % 2 == 0)
                {
                    events.AddPattern(shortOrdered, shortTimes);
                }
                else
                {
                    events.AddPattern(longRepeated, longTimes);
                }
            }
        });

        var destination = new float[3];
        var reads = 0;
        while (!stop.IsCancellationRequested)
        {
            try
            {
                model.MaxVoltage(events, destination);
                reads++;
            }
            catch (Exception e) when (e is ArgumentException or InvalidOperationException or IndexOutOfRangeException)
            {
                // Unsupported use may fail with an exception or give a meaningless answer, never corrupt memory.
            }
        }

        writer.Wait();
        Assert.That(reads, Is.GreaterThan(0));
        events.Clear();
        events.AddPattern(shortOrdered, shortTimes);
        model.MaxVoltage(events, destination);
        var dense = Enumerable.Repeat(-1f, 64).ToArray();
        for (var k = 0; k < shortOrdered.Length; k++)
        {
            dense[shortOrdered[k]] = (float)shortTimes[k];
        }

        var expected = new float[3];
        model.MaxVoltage(dense, 1, expected);
        Assert.That(destination, Is.EqualTo(expected), "the process and the model still work");
    }

    private static void ForgeAfferentOrder(SpikeEvents events, int pattern)
    {
        var field = typeof(SpikeEvents).GetField("_order", BindingFlags.NonPublic | BindingFlags.Instance)!;
        ((byte[])field.GetValue(events)!)[pattern] = 3;
    }

    // ---- 2. Segments longer than about 745 tau ---------------------------------------------------------------------

    [Test]
    public void LongWindow_FindsThePeakOfASegmentWhoseDecaysUnderflow()
    {
        var model = new ExactTempotron(1, 1, window: 20000);
        model.SetWeights([2.0]);
        var events = new SpikeEvents(1);
        events.AddPattern([0], [10.0]);
        var result = new ExactTempotronOutput[1];
        model.Evaluate(events, result);
        Assert.That(result[0].Fired, Is.True);
        var crossing = result[0].CrossingTime;
        Assert.That(crossing, Is.GreaterThan(10).And.LessThan(10 + model.TPeak));

        // A weight below threshold: the maximum is the PSP's peak, 0.9 at 10 + tPeak.
        model.SetWeights([0.9]);
        model.Evaluate(events, result);
        Assert.That(result[0].Fired, Is.False);
        Assert.That(result[0].VMax, Is.EqualTo(0.9).Within(1e-12));
        Assert.That(result[0].TMax, Is.EqualTo(10 + model.TPeak).Within(1e-9));

        var stream = new StreamingExactTempotron(model);
        stream.Push(0, 10.0);
        stream.AdvanceTo(20000);
        Assert.That(stream.MaxVoltages[0], Is.EqualTo(0.9).Within(1e-12), "the stream inherits the segment maximum");

        model.SetWeights([2.0]);
        var stream2 = new StreamingExactTempotron(model);
        stream2.Push(0, 10.0);
        stream2.AdvanceTo(20000);
        Assert.That(stream2.CrossingTimes[0], Is.EqualTo(crossing).Within(1e-9));

        // The rule: a false alarm must be seen and corrected (before the fix the neuron looked silent: no error).
        var rule = new TempotronRule(model, 0.1);
        Assert.That(rule.Step(events, 0, [false]), Is.EqualTo(1));
        Assert.That(model.GetWeight(0, 0), Is.LessThan(2.0));
    }

    // ---- 3 and 5. Learning rates set after construction ------------------------------------------------------------

    [Test]
    public void Sgd_NegativeLearningRateSetLater_IsRefused_AndNoWeightBecomesInfinite()
    {
        var model = new Tempotron(2, 1, 10, [2.1e38f, 0.5f]);
        var sgd = new Sgd(1e-3f, weightDecay: 0.3f);
        var trainer = new TempotronTrainer(model, sgd);
        trainer.Step([-1f, 1f], [0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = -3);
        Assert.That(sgd.LearningRate, Is.EqualTo(1e-3f));
        trainer.Step([-1f, 1f], [0]);
        var w = new float[2];
        model.CopyWeightsTo(w);
        Assert.That(w.All(float.IsFinite), Is.True);
    }

    [TestCase(float.NaN)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    [TestCase(-1e-3f)]
    public void LearningRateSetters_RefuseWhatTheConstructorsRefuse(float lr)
    {
        var sgd = new Sgd(0.1f);
        var adam = new Adam(0.1f);
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => sgd.LearningRate = lr)!.ParamName, Is.EqualTo("value"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => adam.LearningRate = lr)!.ParamName, Is.EqualTo("value"));
        Assert.That(sgd.LearningRate, Is.EqualTo(0.1f));
        Assert.That(adam.LearningRate, Is.EqualTo(0.1f));
        sgd.LearningRate = 0;
        adam.LearningRate = 0;
    }

    // ---- 4 and 8. Overflowing traces: nothing written, and the stream agrees with the batch -----------------------

    [TestCase(1e308)]
    [TestCase(4e307)]
    public void ExactEvaluate_OverflowOnALaterOutputOrPattern_WritesNothing(double huge)
    {
        var model = new ExactTempotron(3, 2, 100);
        model.SetWeights([0.4, 0.3, 0.2, huge, huge, huge]);
        var events = new SpikeEvents(3);
        events.AddPattern([0], [5.0]); // only afferent 0 of output 1: finite for 4e307 (V0 w < max)
        events.AddPattern([0, 1, 2], [1.0, 1.0, 1.0]); // together: the sums of output 1 reach 3 V0 w
        var sentinel = new ExactTempotronOutput(false, 123, 456, 789);
        var destination = Enumerable.Repeat(sentinel, 4).ToArray();
        Assert.Throws<InvalidOperationException>(() => model.Evaluate(events, destination));
        Assert.That(destination, Is.All.EqualTo(sentinel), "SpikeEvents overload");

        var one = Enumerable.Repeat(sentinel, 2).ToArray();
        Assert.Throws<InvalidOperationException>(() => model.Evaluate(events[1], one));
        Assert.That(one, Is.All.EqualTo(sentinel), "SpikePattern overload");

        // The stream throws where the batch does, and never reports NaN.
        var stream = new StreamingExactTempotron(model);
        int[] afferents = [0, 1, 2];
        double[] times = [1.0, 1.0, 1.0];
        Assert.Throws<InvalidOperationException>(() =>
        {
            for (var k = 0; k < afferents.Length; k++)
            {
                stream.Push(afferents[k], times[k]);
            }
        });
        Assert.That(stream.MaxVoltages.ToArray().Any(double.IsNaN), Is.False);
        var v = new double[2];
        stream.CopyVoltagesTo(v);
        Assert.That(v.Any(double.IsNaN), Is.False);
    }

    [Test]
    public void ExactVoltage_NaNTime_IsRefused()
    {
        var model = new ExactTempotron(1, 1, 50);
        var events = new SpikeEvents(1);
        events.AddPattern([0], [1.0]);
        var e = Assert.Throws<ArgumentException>(() => model.Voltage(events[0], 0, [2.0, double.NaN], new double[2]))!;
        Assert.That(e.ParamName, Is.EqualTo("times"));
        var v = new double[2];
        model.Voltage(events[0], 0, [double.PositiveInfinity, double.NegativeInfinity], v);
        Assert.That(v, Is.EqualTo(new[] { 0.0, 0.0 }));
    }

    // ---- 6. Adam with a tiny eps ------------------------------------------------------------------------------------

    [Test]
    public void Adam_TinyEps_KeepsTheSubnormalSecondMoment_AsPyTorch()
    {
        // PyTorch's float32 Adam: m = 1e-19, v = 1e-39 (subnormal), step 0.01 m / (sqrt(v) / sqrt(0.001) + eps) = 1e-3.
        float[] p = [1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f];
        var g = Enumerable.Repeat(1e-18f, p.Length).ToArray();
        new Adam(1e-3f, eps: 1e-30f).Step(p, g);
        Assert.That(p, Is.All.EqualTo(0.999f).Within(1e-6f));
    }

    // ---- 7. IDX files whose gzip inflates beyond what the header declares --------------------------------------------

    [Test]
    public void Idx_GzipInflatingFarBeyondItsHeader_IsRefusedWithoutAllocatingIt()
    {
        var plain = new byte[16 + (8 << 20)]; // a header declaring 1 image of 1 x 1 pixel, then 8 MB of zeros
        plain[3] = 0x03;
        plain[2] = 0x08;
        plain[7] = 1;
        plain[11] = 1;
        plain[15] = 1;
        var gz = IdxFileTests.Gzip(plain);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(gz), "bomb"))!;
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.That(e.Message, Does.Contain("more than the 1 data bytes"));
        Assert.That(allocated, Is.LessThan((4L * gz.Length) + (1 << 20)), "bounded by the input and the header, not the inflated size");
    }

    [Test]
    public void Idx_GzipDeclaringMoreThanAnArray_IsRefusedBeforeAllocating()
    {
        byte[] header = [0, 0, 8, 3, 0x7f, 0xff, 0xff, 0xff, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 1, 2, 3];
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(IdxFileTests.Gzip(header)), "huge"))!;
        Assert.That(e.Message, Does.Contain("2147483647 x 4096 x 4096").And.Contain("an array can hold"));
    }

    // ---- Decided and documented -------------------------------------------------------------------------------------

    [Test]
    public void Load_InvalidOverride_BlamesTheArgument_NotTheFile()
    {
        var bytes = TempotronSafetensors.ToBytes(new Tempotron(3, 2, 10, seed: 1));
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TempotronSafetensors.Load(bytes, new TempotronFileOverrides { T = 0 }))!;
        Assert.That(e.ParamName, Is.EqualTo("overrides"));
        Assert.That(e.Message, Does.Contain("t must be at least 1"));
        Assert.Throws<ArgumentOutOfRangeException>(() => TempotronSafetensors.Load(bytes, new TempotronFileOverrides { TauS = -1 }));
    }

    [Test]
    public void GridModel_WeightsThatOverflowFloat32_GiveNonFiniteMaxima_AndTheTrainerRefuses()
    {
        // As SpikingJelly (float32 sums that overflow are not an error there either): documented in docs/tempotron.md.
        var model = new Tempotron(3, 1, 20, [3e38f, 3e38f, 3e38f]);
        var vMax = new float[1];
        model.MaxVoltage([0f, 0f, 0f], 1, vMax);
        Assert.That(float.IsFinite(vMax[0]), Is.False);
        var trainer = new TempotronTrainer(model, new Sgd(1e-3f));
        Assert.Throws<InvalidOperationException>(() => trainer.Step([0f, 0f, 0f], [0]));
    }

    [Test]
    public void LabelCountThatDoesNotMatchTheRows_BlamesTheLabels()
    {
        var model = new Tempotron(4, 2, 10, seed: 1);
        var e = Assert.Throws<ArgumentException>(() => model.LossGradient(new float[8], [0, 1, 1], new float[8]))!;
        Assert.That(e.ParamName, Is.EqualTo("labels"));
        Assert.That(e.Message, Does.Not.Contain("Actual value was"));
        var range = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(0, 1, 1))!;
        Assert.That(range.Message, Does.Not.Contain("Actual value was"), "one statement of the value, ours");
    }
}
