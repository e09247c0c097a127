using TimingBased.Encoding;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Hardening;

/// <summary>
/// The failure contract of every public entry point, on seeded random cases: random sizes (1, vector-width
/// boundaries, the largest accepted batch), random bad values at random positions. Each call either succeeds with
/// finite results equal to the plain reference, or throws the documented exception naming the parameter, with every
/// destination, weight and optimizer state unchanged bit for bit.
/// </summary>
public class ContractTests
{
    private const int CasesPerMethod = 400;
    private static readonly int[] _sizes = [1, 2, 3, 7, 15, 16, 17, 31, 33];
    private static readonly int[] _outs = [1, 2, 3, 9, 16, 17];
    private static readonly int[] _steps = [1, 2, 5, 17, 33];

    public enum Entry
    {
        Voltage,
        MaxVoltage,
        SpikeTimes,
        MaxVoltageBackward,
        SpikeTimesBackward,
        VoltageBackward,
        LossGradient,
        LossBackward,
        TrainerStep,
        TrainerEvaluate,
        ApplyGradient,
        SetWeights,
    }

    /// <summary>What a case broke, and which exception and parameter the documentation promises for it.</summary>
    private enum Fault
    {
        None,
        NaNSpike,
        InfiniteSpike, // valid: +inf and -inf are silent
        WrongInputLength,
        ShortDestination,
        BadBatchSize,
        BadUpstream,
        BadLabel,
        EmptyLabels,
        BadWeight,
        WrongGradientLength,
    }

    [Test]
    public void Tempotron_EveryEntryPoint_KeepsItsContract([Values] Entry entry, [Values(1, 2)] int degree)
    {
        var rng = new Random(((int)entry * 7919) + degree);
        var faults = 0;
        for (var n = 0; n < CasesPerMethod; n++)
        {
            faults += RunCase(rng, entry, degree) ? 1 : 0;
        }

        Assert.That(faults, Is.GreaterThan(CasesPerMethod / 4), "the cases must exercise the failure paths");
    }

    [Test]
    public void Encoder_KeepsItsContract()
    {
        var rng = new Random(17);
        var failures = 0;
        for (var n = 0; n < 2000; n++)
        {
            var channels = Pick(rng, [1, 2, 3]);
            var m = Pick(rng, [3, 4, 7, 16, 17]);
            var batch = Pick(rng, [1, 2, 3]);
            var samples = Pick(rng, _sizes);
            var xMin = TestData.Uniform(rng, channels, -1f, 0f);
            var xMax = TestData.Uniform(rng, channels, 0.5f, 2f);
            var encoder = new GaussianTuning(channels, m, xMin, xMax);
            var x = TestData.Uniform(rng, batch * channels * samples, -1.5f, 2.5f);
            var length = x.Length * m;
            var maxSpikeTime = Pick(rng, [0, 1, 5, 100, 1 << 24]);
            var fault = rng.Next(5);
            string? param = null;
            switch (fault)
            {
                case 1:
                    x[rng.Next(x.Length)] = float.NaN;
                    param = "x";
                    break;
                case 2:
                    x[rng.Next(x.Length)] = rng.Next(2) == 0 ? float.PositiveInfinity : float.NegativeInfinity; // valid: silent
                    break;
                case 3:
                    length -= 1 + rng.Next(m);
                    param = "destination";
                    break;
                case 4:
                    maxSpikeTime = rng.Next(2) == 0 ? -1 - rng.Next(5) : (1 << 24) + 1;
                    param = "maxSpikeTime";
                    break;
            }

            var destination = TestData.Padded(length);
            var before = (float[])destination.Clone();
            try
            {
                encoder.Encode(x, batch, maxSpikeTime, destination.AsSpan(TestData.Pad, length));
                Assert.That(param, Is.Null, "the call should have failed");
                var expected = GaussianTuningReference.Encode(x, batch, channels, m, xMin, xMax, maxSpikeTime, out var preRound);
                for (var k = 0; k < length; k++)
                {
                    var got = destination[TestData.Pad + k];
                    Assert.That(float.IsFinite(got), Is.True);
                    if (maxSpikeTime == 1 << 24)
                    {
                        // float32 arithmetic at this scale is off the double reference by a few units: check the form.
                        Assert.That(got == -1f || (got >= 0 && got < maxSpikeTime && got == MathF.Round(got)), Is.True, $"element {k} = {got}");
                    }
                    else if (Math.Abs(preRound[k] - Math.Floor(preRound[k]) - 0.5) > 1e-3)
                    {
                        Assert.That(got, Is.EqualTo((float)expected[k]), $"element {k}");
                    }
                }

                TestData.AssertPaddingIntact(destination, length);
            }
            catch (ArgumentException e) when (param is not null)
            {
                failures++;
                Assert.That(e.ParamName, Is.EqualTo(param));
                AssertBitIdentical(destination, before, "destination");
            }
        }

        Assert.That(failures, Is.GreaterThan(500));
    }

    [Test]
    public void Optimizers_KeepTheirContract([Values] bool adam)
    {
        var rng = new Random(adam ? 3 : 4);
        for (var n = 0; n < 2000; n++)
        {
            var length = Pick(rng, _sizes);
            IOptimizer optimizer = adam ? new Adam(lr: 0.5f, weightDecay: 1f) : new Sgd(0.5f, momentum: 0.9f, weightDecay: 1f, nesterov: rng.Next(2) == 0);
            var p = TestData.Uniform(rng, length, -1f, 1f);
            var g = TestData.Uniform(rng, length, -1f, 1f);
            optimizer.Step(p, g); // state exists from here on
            var fault = rng.Next(4);
            if (fault == 1)
            {
                p[rng.Next(length)] = float.MaxValue * (rng.Next(2) == 0 ? 1 : -1);
            }
            else if (fault == 2)
            {
                g[rng.Next(length)] = float.MaxValue;
            }

            var twin = Clone(optimizer, p, g, length, rng);
            var pBefore = (float[])p.Clone();
            try
            {
                optimizer.Step(fault == 3 ? p.AsSpan(0, length - 1) : p, fault == 3 ? g.AsSpan(1) : g);
                Assert.That(fault, Is.Not.EqualTo(3));
                Assert.That(p.All(float.IsFinite), Is.True);
            }
            catch (ArgumentException e) when (fault == 3)
            {
                Assert.That(e.ParamName, Is.EqualTo("parameters")); // equal lengths, but not the state's
                AssertBitIdentical(p, pBefore, "parameters");
            }
            catch (InvalidOperationException) when (fault is 1 or 2)
            {
                AssertBitIdentical(p, pBefore, "parameters");

                // The state is unchanged: the next good step equals that of an optimizer that never saw the bad one.
                var good = TestData.Uniform(rng, length, -1f, 1f);
                var q = (float[])good.Clone();
                optimizer.Step(q, g.Select(v => float.IsFinite(v) && Math.Abs(v) < 2 ? v : 0f).ToArray());
                var r = (float[])good.Clone();
                twin.Step(r, g.Select(v => float.IsFinite(v) && Math.Abs(v) < 2 ? v : 0f).ToArray());
                AssertBitIdentical(q, r, "the step after a refused one");
            }
        }
    }

    /// <summary>An optimizer in the same state as <paramref name="optimizer"/>, rebuilt by replaying: the first step only.</summary>
    private static IOptimizer Clone(IOptimizer optimizer, float[] p, float[] g, int length, Random rng)
    {
        _ = p;
        _ = g;
        _ = length;
        _ = rng;
        return optimizer switch
        {
            Adam a => new StateTwin(a).Optimizer,
            Sgd s => new StateTwin(s).Optimizer,
            _ => throw new InvalidOperationException(),
        };
    }

    /// <summary>Snapshots an optimizer's state by cloning its private buffers through reflection (tests only).</summary>
    private sealed class StateTwin
    {
        public StateTwin(IOptimizer source)
        {
            Optimizer = source switch
            {
                Adam a => new Adam(a.LearningRate, a.Beta1, a.Beta2, a.Eps, a.WeightDecay),
                Sgd s => new Sgd(s.LearningRate, s.Momentum, s.WeightDecay, s.Nesterov),
                _ => throw new InvalidOperationException(),
            };
            foreach (var field in source.GetType().GetFields(System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance))
            {
                var value = field.GetValue(source);
                field.SetValue(Optimizer, value is float[] array ? array.Clone() : value);
            }
        }

        public IOptimizer Optimizer { get; }
    }

    private static bool RunCase(Random rng, Entry entry, int degree)
    {
        var inF = Pick(rng, _sizes);
        var outF = Pick(rng, _outs);
        var t = Pick(rng, _steps);
        var batch = Pick(rng, [1, 2, 3, 5]);
        var weights = TestData.Uniform(rng, outF * inF, -1.5f, 1.5f);
        var model = new Tempotron(inF, outF, t, weights) { MaxDegreeOfParallelism = degree };
        var spikes = RandomSpikes(rng, batch * inF, t);
        var labels = Enumerable.Range(0, batch).Select(_ => rng.Next(outF)).ToArray();
        var fault = PickFault(rng, entry);
        var inLength = spikes.Length;
        var batchArg = batch;
        var labelArg = labels;
        string? param = null;
        switch (fault)
        {
            case Fault.NaNSpike:
                spikes[rng.Next(spikes.Length)] = float.NaN;
                param = "inSpikes";
                break;
            case Fault.InfiniteSpike:
                spikes[rng.Next(spikes.Length)] = rng.Next(2) == 0 ? float.PositiveInfinity : float.NegativeInfinity;
                break;
            case Fault.WrongInputLength:
                inLength += rng.Next(2) == 0 ? -1 : 1;

                // Whole rows of another count than the labels (in = 1): the labels are what does not match them.
                var wholeRows = inLength > 0 && inLength % inF == 0;
                param = wholeRows && entry is Entry.LossGradient or Entry.TrainerStep or Entry.TrainerEvaluate ? "labels" : "inSpikes";
                break;
            case Fault.BadBatchSize:
                batchArg = -rng.Next(3);
                param = "batchSize";
                break;
            case Fault.BadLabel:
                labelArg = (int[])labels.Clone();
                labelArg[rng.Next(batch)] = rng.Next(2) == 0 ? -1 : outF + rng.Next(3);
                param = "labels";
                break;
            case Fault.EmptyLabels:
                labelArg = [];
                param = "labels";
                break;
        }

        var input = new float[Math.Max(inLength, spikes.Length)];
        spikes.CopyTo(input, 0);
        var inArray = input.AsSpan(0, inLength).ToArray();
        var weightsBefore = Weights(model);
        var reference = new TempotronReference(inF, outF, t, [.. weights.Select(w => (double)w)]);
        var s = spikes.Select(v => (double)v).ToArray();
        bool ok;
        switch (entry)
        {
            case Entry.Voltage:
            case Entry.MaxVoltage:
            case Entry.SpikeTimes:
                {
                    var length = batch * outF * (entry == Entry.Voltage ? t : 1);
                    if (fault == Fault.ShortDestination)
                    {
                        length -= 1;
                        param = "destination";
                    }

                    var destination = TestData.Padded(length);
                    var before = (float[])destination.Clone();
                    ok = Try(() =>
                    {
                        var d = destination.AsSpan(TestData.Pad, length);
                        if (entry == Entry.Voltage)
                        {
                            model.Voltage(input.AsSpan(0, inLength), batchArg, d);
                        }
                        else if (entry == Entry.MaxVoltage)
                        {
                            model.MaxVoltage(input.AsSpan(0, inLength), batchArg, d);
                        }
                        else
                        {
                            model.SpikeTimes(input.AsSpan(0, inLength), batchArg, d);
                        }
                    }, param, () => AssertBitIdentical(destination, before, "destination"));
                    if (ok)
                    {
                        TestData.AssertPaddingIntact(destination, length);
                        var result = destination.AsSpan(TestData.Pad, length).ToArray();
                        CheckForward(entry, reference, s, batch, result);
                    }

                    break;
                }

            case Entry.MaxVoltageBackward:
            case Entry.SpikeTimesBackward:
            case Entry.VoltageBackward:
                {
                    var upLength = batch * outF * (entry == Entry.VoltageBackward ? t : 1);
                    var upstream = TestData.Uniform(rng, upLength, -1f, 1f);
                    var dWLength = outF * inF;
                    var dInLength = batch * inF;
                    if (fault == Fault.BadUpstream)
                    {
                        upstream[rng.Next(upLength)] = Pick(rng, [float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
                        param = "upstream";
                    }
                    else if (fault == Fault.ShortDestination && (dWLength > 1 || dInLength > 1))
                    {
                        // One element short (a longer span is allowed: the call writes its first elements); an empty
                        // span means "skip", so a one-element gradient cannot be made short.
                        if (dInLength == 1 || (dWLength > 1 && rng.Next(2) == 0))
                        {
                            dWLength--;
                            param = "weightGradient";
                        }
                        else
                        {
                            dInLength--;
                            param = "inputGradient";
                        }
                    }

                    var dW = TestData.Padded(dWLength);
                    var dIn = TestData.Padded(dInLength);
                    var dWBefore = (float[])dW.Clone();
                    var dInBefore = (float[])dIn.Clone();
                    ok = Try(() =>
                    {
                        var w = dW.AsSpan(TestData.Pad, dWLength);
                        var i = dIn.AsSpan(TestData.Pad, dInLength);
                        switch (entry)
                        {
                            case Entry.MaxVoltageBackward:
                                model.MaxVoltageBackward(inArray, batchArg, upstream, w, i);
                                break;
                            case Entry.SpikeTimesBackward:
                                model.SpikeTimesBackward(inArray, batchArg, upstream, w, i);
                                break;
                            default:
                                model.VoltageBackward(inArray, batchArg, upstream, w, i);
                                break;
                        }
                    }, param, () =>
                    {
                        AssertBitIdentical(dW, dWBefore, "weightGradient");
                        AssertBitIdentical(dIn, dInBefore, "inputGradient");
                    });
                    if (ok)
                    {
                        TestData.AssertPaddingIntact(dW, dWLength);
                        TestData.AssertPaddingIntact(dIn, dInLength);
                        AssertFinite(dW.AsSpan(TestData.Pad, dWLength), "weightGradient");
                        AssertFinite(dIn.AsSpan(TestData.Pad, dInLength), "inputGradient");
                        if (entry == Entry.MaxVoltageBackward)
                        {
                            var expected = reference.DenseMaxVoltageWeightGradient(s, batch, [.. upstream.Select(v => (double)v)]);
                            for (var k = 0; k < expected.Length; k++)
                            {
                                Assert.That(dW[TestData.Pad + k], Is.EqualTo(expected[k]).Within(1e-4 * (1 + Math.Abs(expected[k])) * batch), $"dW[{k}]");
                            }
                        }
                    }

                    break;
                }

            case Entry.LossGradient:
                {
                    var dWLength = outF * inF - (fault == Fault.ShortDestination ? 1 : 0);
                    param = fault == Fault.ShortDestination ? "weightGradient" : param;
                    var dW = TestData.Padded(dWLength);
                    var before = (float[])dW.Clone();
                    var loss = Pick(rng, [TempotronLoss.MeanSquaredError, TempotronLoss.PaperCost]);
                    ok = Try(() => model.LossGradient(inArray, labelArg, loss, dW.AsSpan(TestData.Pad, dWLength)), param,
                        () => AssertBitIdentical(dW, before, "weightGradient"));
                    if (ok)
                    {
                        AssertFinite(dW.AsSpan(TestData.Pad, dWLength), "weightGradient");
                        TestData.AssertPaddingIntact(dW, dWLength);
                    }

                    break;
                }

            case Entry.LossBackward:
                {
                    var vMax = TestData.Uniform(rng, batch * outF, -2f, 3f);
                    var gLength = vMax.Length;
                    if (fault == Fault.BadUpstream)
                    {
                        vMax[rng.Next(vMax.Length)] = Pick(rng, [float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
                        param = "vMax";
                    }
                    else if (fault == Fault.ShortDestination)
                    {
                        gLength--;
                        param = "vMaxGradient";
                    }

                    var g = TestData.Padded(gLength);
                    var before = (float[])g.Clone();
                    float value = 0;
                    ok = Try(() => value = model.LossBackward(vMax, labelArg, g.AsSpan(TestData.Pad, gLength)), param,
                        () => AssertBitIdentical(g, before, "vMaxGradient"));
                    if (ok)
                    {
                        Assert.That(float.IsFinite(value), Is.True);
                        AssertFinite(g.AsSpan(TestData.Pad, gLength), "vMaxGradient");
                    }

                    break;
                }

            case Entry.TrainerStep:
            case Entry.TrainerEvaluate:
                {
                    var sgd = new Sgd(0.01f, momentum: 0.5f);
                    var trainer = new TempotronTrainer(model, sgd);
                    TrainingStepResult result = default;
                    ok = Try(() => result = entry == Entry.TrainerStep ? trainer.Step(inArray, labelArg) : trainer.Evaluate(inArray, labelArg), param, () => { });
                    if (ok)
                    {
                        Assert.That(float.IsFinite(result.Loss), Is.True);
                        Assert.That(result.Correct, Is.InRange(0, batch));
                        var expectedLoss = reference.Loss(s, labels, paper: false);
                        Assert.That(result.Loss, Is.EqualTo(expectedLoss).Within(1e-3 * (1 + expectedLoss)));
                    }

                    if (!ok || entry == Entry.TrainerEvaluate)
                    {
                        AssertBitIdentical(Weights(model), weightsBefore, "weights");
                    }

                    break;
                }

            case Entry.ApplyGradient:
                {
                    var gradient = TestData.Uniform(rng, outF * inF + (fault == Fault.WrongGradientLength ? 1 : 0), -1f, 1f);
                    if (fault == Fault.WrongGradientLength)
                    {
                        param = "weightGradient";
                    }
                    else if (fault == Fault.BadWeight)
                    {
                        gradient[rng.Next(gradient.Length)] = Pick(rng, [float.NaN, float.PositiveInfinity]);
                        param = "weightGradient";
                    }

                    ok = Try(() => model.ApplyGradient(new Sgd(0.1f), gradient), param, () => { });
                    if (ok)
                    {
                        var after = Weights(model);
                        for (var k = 0; k < after.Length; k++)
                        {
                            Assert.That(after[k], Is.EqualTo(weightsBefore[k] - (0.1f * gradient[k])));
                        }
                    }
                    else
                    {
                        AssertBitIdentical(Weights(model), weightsBefore, "weights");
                    }

                    break;
                }

            default:
                {
                    var replacement = TestData.Uniform(rng, outF * inF + (fault == Fault.WrongGradientLength ? -1 : 0), -1f, 1f);
                    if (fault == Fault.WrongGradientLength)
                    {
                        param = "weights";
                    }
                    else if (fault == Fault.BadWeight)
                    {
                        replacement[rng.Next(replacement.Length)] = Pick(rng, [float.NaN, float.PositiveInfinity, float.NegativeInfinity]);
                        param = "weights";
                    }

                    ok = Try(() => model.SetWeights(replacement), param, () => { });
                    AssertBitIdentical(Weights(model), ok ? replacement : weightsBefore, "weights");
                    break;
                }
        }

        if (!ok && entry is not (Entry.TrainerStep or Entry.ApplyGradient or Entry.SetWeights))
        {
            AssertBitIdentical(Weights(model), weightsBefore, "weights");
        }

        return !ok;
    }

    private static Fault PickFault(Random rng, Entry entry)
    {
        Fault[] common = [Fault.None, Fault.None, Fault.InfiniteSpike, Fault.NaNSpike, Fault.WrongInputLength];
        Fault[] more = entry switch
        {
            Entry.Voltage or Entry.MaxVoltage or Entry.SpikeTimes => [Fault.ShortDestination, Fault.BadBatchSize],
            Entry.MaxVoltageBackward or Entry.SpikeTimesBackward or Entry.VoltageBackward => [Fault.ShortDestination, Fault.BadBatchSize, Fault.BadUpstream],
            Entry.LossGradient => [Fault.ShortDestination, Fault.BadLabel, Fault.EmptyLabels],
            Entry.LossBackward => [Fault.None, Fault.ShortDestination, Fault.BadLabel, Fault.EmptyLabels, Fault.BadUpstream],
            Entry.TrainerStep or Entry.TrainerEvaluate => [Fault.BadLabel, Fault.EmptyLabels],
            _ => [Fault.None, Fault.BadWeight, Fault.WrongGradientLength],
        };
        if (entry is Entry.LossBackward or Entry.ApplyGradient or Entry.SetWeights)
        {
            return Pick(rng, more);
        }

        return rng.Next(common.Length + more.Length) is var k && k < common.Length ? common[k] : more[k - common.Length];
    }

    private static void CheckForward(Entry entry, TempotronReference reference, double[] s, int batch, float[] result)
    {
        AssertFinite(result, "destination");
        var (max, arg) = reference.MaxVoltage(s, batch);
        if (entry == Entry.Voltage)
        {
            var v = reference.Voltage(s, batch);
            for (var k = 0; k < v.Length; k++)
            {
                Assert.That(result[k], Is.EqualTo(v[k]).Within(reference.Tolerance(k / reference.T % reference.Out)), $"V[{k}]");
            }

            return;
        }

        for (var k = 0; k < max.Length; k++)
        {
            if (entry == Entry.MaxVoltage)
            {
                Assert.That(result[k], Is.EqualTo(max[k]).Within(reference.Tolerance(k % reference.Out)), $"vMax[{k}]");
            }
            else
            {
                Assert.That(Math.Abs(result[k]), Is.InRange(0, reference.T - 1).And.EqualTo(Math.Round(Math.Abs(result[k]))));
                var nearTie = Math.Abs(max[k] - reference.VThreshold) < 1e-5;
                if (!nearTie && arg[k] != 0)
                {
                    Assert.That(result[k] > 0, Is.EqualTo(max[k] >= reference.VThreshold), $"sign of spike time {k}");
                }
            }
        }
    }

    /// <summary>Runs <paramref name="call"/>; true if it succeeded (and was meant to), false if it threw as documented.</summary>
    private static bool Try(Action call, string? param, Action unchanged)
    {
        try
        {
            call();
        }
        catch (ArgumentException e) when (param is not null)
        {
            Assert.That(e.ParamName, Is.EqualTo(param), e.Message);
            Assert.That(e.Message, Does.Contain(param));
            unchanged();
            return false;
        }

        Assert.That(param, Is.Null, "the call should have thrown for " + param);
        return true;
    }

    private static float[] RandomSpikes(Random rng, int length, int t)
    {
        var a = new float[length];
        for (var k = 0; k < length; k++)
        {
            a[k] = rng.Next(6) switch
            {
                0 => -1f,
                1 => -0f,
                2 => rng.Next(t) + 0.5f,
                3 => t + rng.Next(3),
                _ => rng.Next(t),
            };
        }

        return a;
    }

    private static T Pick<T>(Random rng, T[] values) => values[rng.Next(values.Length)];

    private static float[] Weights(Tempotron model)
    {
        var w = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        return w;
    }

    private static void AssertFinite(ReadOnlySpan<float> values, string what)
    {
        for (var k = 0; k < values.Length; k++)
        {
            Assert.That(float.IsFinite(values[k]), Is.True, $"{what}[{k}] = {values[k]}");
        }
    }

    private static void AssertBitIdentical(float[] actual, float[] expected, string what)
    {
        Assert.That(actual, Has.Length.EqualTo(expected.Length), what);
        for (var k = 0; k < actual.Length; k++)
        {
            Assert.That(BitConverter.SingleToInt32Bits(actual[k]), Is.EqualTo(BitConverter.SingleToInt32Bits(expected[k])), $"{what}[{k}] changed");
        }
    }

    /// <summary>IDX files: random truncations and mutations of a valid file only ever give InvalidDataException.</summary>
    [Test]
    public void IdxReader_OnMutatedFiles_ThrowsOnlyInvalidData()
    {
        var rng = new Random(5);
        var file = new byte[16 + (3 * 2 * 2)];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(file, 0x00000803);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(4), 3);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(8), 2);
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(file.AsSpan(12), 2);
        var rejected = 0;
        for (var n = 0; n < 2000; n++)
        {
            var bytes = (byte[])file.Clone();
            if (rng.Next(2) == 0)
            {
                bytes = bytes.AsSpan(0, rng.Next(bytes.Length)).ToArray();
            }
            else
            {
                bytes[rng.Next(16)] = (byte)rng.Next(256);
            }

            try
            {
                var images = IdxFile.ReadImages(new MemoryStream(bytes));
                Assert.That((long)images.Count * images.Rows * images.Columns, Is.EqualTo(bytes.Length - 16));
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
        }

        Assert.That(rejected, Is.GreaterThan(1000));
    }
}
