using System.Numerics.Tensors;
using TimingBased.Encoding;
using TimingBased.Tests.Reference;

namespace TimingBased.Tests.Encoding;

public class GaussianTuningTests
{
    private static float[] EncodeToArray(GaussianTuning enc, float[] x, int batch, int maxSpikeTime)
    {
        var dst = new float[x.Length * enc.M];
        enc.Encode(x, batch, maxSpikeTime, dst);
        return dst;
    }

    [Test]
    public void SpikingJellyDocExample_N1_M4()
    {
        var enc = new GaussianTuning(1, 4, [0f], [1f]);
        var y = EncodeToArray(enc, [0.1f, 0.5f, 0.9f], 1, 100);
        Assert.That(y, Is.EqualTo(new float[] { 42, 10, 85, -1, 92, 25, 25, 92, -1, 85, 10, 42 }));
        Assert.That(enc.Mu.ToArray(), Is.EqualTo(new float[] { -0.25f, 0.25f, 0.75f, 1.25f }));
        Assert.That(enc.Sigma2.ToArray(), Is.EqualTo(Enumerable.Repeat((1f / 3f) * (1f / 3f), 4).ToArray()));
        Assert.That(enc.Sigma2[0], Is.EqualTo(1.0 / 9.0).Within(1e-7));
    }

    [Test]
    public void SpikingJellyDocExample_N3_M5()
    {
        var enc = new GaussianTuning(3, 5, [0f, 0f, 0f], [1f, 1f, 1f]);
        float[] x = [0.1f, 0.5f, 0.9f, 0.2f, 0.6f, 0.8f, 0.3f, 0.7f, 0.4f];
        var y = EncodeToArray(enc, x, 1, 100);
        float[] expected =
        [
            51, 4, 80, -1, -1, 99, 68, 0, 68, 99, -1, -1, 80, 4, 51,
            74, 1, 60, 98, -1, -1, 85, 10, 42, 96, -1, 98, 60, 1, 74,
            89, 16, 33, 94, -1, -1, 94, 33, 16, 89, 96, 42, 10, 85, -1,
        ];
        Assert.That(y, Is.EqualTo(expected));
    }

    [Test]
    public void TensorOverload_MatchesSpanOverload_AndHasShape()
    {
        var enc = new GaussianTuning(1, 4, [0f], [1f]);
        var x = Tensor.Create(new float[] { 0.1f, 0.5f, 0.9f }, [1, 1, 3]);
        var y = enc.Encode(x.AsReadOnlyTensorSpan(), 100);
        Assert.That(y.Lengths.ToArray(), Is.EqualTo(new nint[] { 1, 1, 3, 4 }));
        var flat = new float[12];
        y.AsReadOnlyTensorSpan().FlattenTo(flat);
        Assert.That(flat, Is.EqualTo(new float[] { 42, 10, 85, -1, 92, 25, 25, 92, -1, 85, 10, 42 }));
    }

    [Test]
    public void TensorOverload_RejectsWrongRankOrChannels()
    {
        var enc = new GaussianTuning(2, 4, [0f, 0f], [1f, 1f]);
        var wrongRank = Tensor.Create(new float[4], [2, 2]);
        var wrongChannels = Tensor.Create(new float[6], [1, 3, 2]);
        Assert.Throws<ArgumentException>(() => enc.Encode(wrongRank.AsReadOnlyTensorSpan()));
        var ex = Assert.Throws<ArgumentException>(() => enc.Encode(wrongChannels.AsReadOnlyTensorSpan()));
        Assert.That(ex!.ParamName, Is.EqualTo("x"));
        Assert.That(ex.Message, Does.Contain("[1, 3, 2]"));
    }

    [Test]
    public void ValueAtACentre_SpikesAtZero()
    {
        var enc = new GaussianTuning(2, 7, [-3f, 10f], [5f, 11f]);
        for (var c = 0; c < 2; c++)
        {
            for (var j = 0; j < 7; j++)
            {
                var x = new float[2];
                x[c] = enc.Mu[(c * 7) + j];
                var y = EncodeToArray(enc, x, 1, 50);
                Assert.That(y[(c * 7) + j], Is.Zero, $"channel {c} neuron {j}");
                Assert.That(float.IsNegative(y[(c * 7) + j]), Is.False, "a spike at +0, not -0");
            }
        }
    }

    [TestCase(1e6f)]
    [TestCase(-1e6f)]
    [TestCase(float.PositiveInfinity)]
    [TestCase(float.NegativeInfinity)]
    [TestCase(float.MaxValue)]
    public void FarOutOfRangeValues_AreSilent(float value)
    {
        var enc = new GaussianTuning(1, 33, [0f], [1f]);
        var y = EncodeToArray(enc, [value], 1, 100);
        Assert.That(y, Is.All.EqualTo(-1f));
    }

    [Test]
    public void MaxSpikeTimeZero_MeansOneHundred()
    {
        var enc = new GaussianTuning(3, 5, [0f, 0f, 0f], [1f, 1f, 1f]);
        var x = TestData.Uniform(new Random(3), 3 * 40, -0.2f, 1.2f);
        Assert.That(EncodeToArray(enc, x, 1, 0), Is.EqualTo(EncodeToArray(enc, x, 1, 100)));
    }

    [Test]
    public void DefaultMaxSpikeTime_IsFifty()
    {
        var enc = new GaussianTuning(1, 5, [0f], [1f]);
        float[] x = [0.1f, 0.33f, 0.9f];
        var dst = new float[15];
        enc.Encode(x, 1, dst);
        Assert.That(dst, Is.EqualTo(EncodeToArray(enc, x, 1, 50)));
        Assert.That(dst, Is.All.LessThan(50f));
    }

    /// <summary>Random shapes against the double-precision reference; only near-.5 ties may round apart.</summary>
    [Test]
    public void MatchesDoubleReference_OnRandomShapes([Range(0, 39)] int seed)
    {
        var rng = new Random(1000 + seed);
        var batch = rng.Next(1, 6);
        var n = rng.Next(1, 8);
        var samples = rng.Next(1, 71);
        var m = rng.Next(3, 34);
        var maxT = new[] { 1, 7, 50, 100, 1000, 0 }[rng.Next(6)];
        var xMin = TestData.Uniform(rng, n, -5f, 5f);
        var xMax = new float[n];
        for (var i = 0; i < n; i++)
        {
            xMax[i] = xMin[i] + 0.01f + (10f * rng.NextSingle());
        }

        var x = new float[batch * n * samples];
        for (var b = 0; b < batch; b++)
        {
            for (var c = 0; c < n; c++)
            {
                var span = xMax[c] - xMin[c];
                for (var s = 0; s < samples; s++)
                {
                    // Mostly in range, some outside, and runs of repeated values (like an image's background).
                    var v = xMin[c] + (span * ((1.4f * rng.NextSingle()) - 0.2f));
                    x[(((b * n) + c) * samples) + s] = (s > 0 && rng.Next(3) == 0) ? x[(((b * n) + c) * samples) + s - 1] : v;
                }
            }
        }

        var enc = new GaussianTuning(n, m, xMin, xMax);
        var padded = TestData.Padded(x.Length * m);
        var xPadded = TestData.Padded(x);
        enc.Encode(xPadded.AsSpan(TestData.Pad, x.Length), batch, maxT, padded.AsSpan(TestData.Pad, x.Length * m));
        TestData.AssertPaddingIntact(padded, x.Length * m);

        var expected = GaussianTuningReference.Encode(x, batch, n, m, xMin, xMax, maxT, out var pre);
        var compared = 0;
        for (var k = 0; k < expected.Length; k++)
        {
            // Float32 and double may round apart where the pre-rounding value is within 1e-3 of a .5 tie.
            if (Math.Abs(pre[k] - Math.Floor(pre[k]) - 0.5) < 1e-3)
            {
                continue;
            }

            compared++;
            Assert.That(padded[TestData.Pad + k], Is.EqualTo((float)expected[k]),
                $"seed {seed}, shape [{batch},{n},{samples},{m}], maxT {maxT}, element {k}, x={x[k / m]}, pre={pre[k]}");
        }

        Assert.That(compared, Is.GreaterThan(expected.Length * 9 / 10));
    }

    [Test]
    public void MatchesDoubleReference_AtVectorBoundarySizes([ValueSource(typeof(TestData), nameof(TestData.VectorBoundarySizes))] int size)
    {
        var m = Math.Max(3, size);
        var rng = new Random(size);
        var enc = new GaussianTuning(1, m, [0f], [1f]);
        var x = TestData.Uniform(rng, size, -0.1f, 1.1f);
        var y = EncodeToArray(enc, x, 1, 100);
        var expected = GaussianTuningReference.Encode(x, 1, 1, m, [0f], [1f], 100, out var pre);
        for (var k = 0; k < y.Length; k++)
        {
            if (Math.Abs(pre[k] - Math.Floor(pre[k]) - 0.5) > 1e-3)
            {
                Assert.That(y[k], Is.EqualTo((float)expected[k]), $"m {m} element {k}");
            }
        }
    }

    [Test]
    public void VectorPath_EqualsScalarFormula_ExceptExpUlpTies()
    {
        // The vector kernel and the scalar float32 formula perform the same operations in the same order.
        var rng = new Random(7);
        var enc = new GaussianTuning(1, 37, [0f], [1f]);
        var x = TestData.Uniform(rng, 500, -0.2f, 1.2f);
        var y = EncodeToArray(enc, x, 1, 100);
        var mismatches = 0;
        for (var s = 0; s < x.Length; s++)
        {
            for (var j = 0; j < 37; j++)
            {
                var expected = GaussianTuning.EncodeScalar(x[s], enc.Mu[j], 2 * enc.Sigma2[j], 100f);
                if (y[(s * 37) + j] != expected)
                {
                    mismatches++;
                    Assert.That(Math.Abs(y[(s * 37) + j] - expected), Is.EqualTo(1f).Or.EqualTo(100f));
                }
            }
        }

        Assert.That(mismatches, Is.LessThanOrEqualTo(2));
    }

    /// <summary>
    /// Values repeated anywhere in a call (the encoder copies the row it computed for a value's first sample) encode as
    /// each sample alone: every sample is encoded again in a call of its own, with only that sample's values.
    /// </summary>
    [Test]
    public void RepeatedValues_EncodeAsEachSampleAlone([Range(0, 23)] int seed)
    {
        var rng = new Random(3000 + seed);
        var batch = rng.Next(1, 5);
        var n = rng.Next(1, 5);
        var samples = rng.Next(1, 90);
        var m = new[] { 3, 7, 8, 9, 16, 17, 31, 64, 65, 70 }[seed % 10]; // above 64: no cache
        var maxT = new[] { 1, 50, 100, 1000 }[rng.Next(4)];
        var xMin = TestData.Uniform(rng, n, -2f, 2f);
        var xMax = Array.ConvertAll(xMin, v => v + 0.5f + (3 * rng.NextSingle()));
        var enc = new GaussianTuning(n, m, xMin, xMax);

        // A few values, shared by all channels (the same value in another channel is another row), in any order.
        var pool = TestData.Uniform(rng, rng.Next(1, 12), -2f, 5f);
        var x = new float[batch * n * samples];
        for (var k = 0; k < x.Length; k++)
        {
            x[k] = pool[rng.Next(pool.Length)];
        }

        var y = EncodeToArray(enc, x, batch, maxT);
        AssertEachSampleAlone(enc, x, y, batch, samples, maxT, $"seed {seed}, [{batch},{n},{samples},{m}]");
    }

    /// <summary>
    /// Continuous values (few repeats: the encoder stops looking rows up after 1,024 misses) and then earlier values
    /// again, in a call that follows a call of another encoder with the same values: each sample encodes as alone.
    /// </summary>
    [Test]
    public void ManyDistinctValues_ThenRepeats_AfterAnotherEncoder_EncodeAsEachSampleAlone()
    {
        var rng = new Random(77);
        const int Samples = 3000;
        var x = new float[2 * Samples];
        for (var s = 0; s < Samples; s++)
        {
            x[s] = rng.NextSingle();
            x[Samples + s] = x[rng.Next(Samples)]; // the second image repeats values of the first
        }

        var other = new GaussianTuning(1, 16, [-1f], [2f]);
        var enc = new GaussianTuning(1, 16, [0f], [1f]);
        _ = EncodeToArray(other, x, 2, 100);
        var y = EncodeToArray(enc, x, 2, 100);
        AssertEachSampleAlone(enc, x, y, 2, Samples, 100, "uniform then repeats");
        var y50 = EncodeToArray(enc, x, 2, 50);
        AssertEachSampleAlone(enc, x, y50, 2, Samples, 50, "the same values with another window");
    }

    /// <summary>Asserts that every sample of <paramref name="y"/> holds what encoding that sample's values alone gives.</summary>
    private static void AssertEachSampleAlone(GaussianTuning enc, float[] x, float[] y, int batch, int samples, int maxT, string what)
    {
        var n = enc.N;
        var m = enc.M;
        var column = new float[n];
        var alone = new float[n * m];
        for (var b = 0; b < batch; b++)
        {
            for (var s = 0; s < samples; s++)
            {
                for (var c = 0; c < n; c++)
                {
                    column[c] = x[(((b * n) + c) * samples) + s];
                }

                enc.Encode(column, 1, maxT, alone);
                for (var c = 0; c < n; c++)
                {
                    var at = ((((b * n) + c) * samples) + s) * m;
                    Assert.That(y.AsSpan(at, m).ToArray(), Is.EqualTo(alone.AsSpan(c * m, m).ToArray()),
                        $"{what}: batch {b}, channel {c}, sample {s}, x = {column[c]}");
                }
            }
        }
    }

    [Test]
    public void IsThreadSafe_WhenShared()
    {
        var enc = new GaussianTuning(1, 16, [0f], [1f]);
        var x = TestData.Uniform(new Random(11), 784 * 4, 0f, 1f);
        var expected = EncodeToArray(enc, x, 4, 100);
        Parallel.For(0, 16, _ => Assert.That(EncodeToArray(enc, x, 4, 100), Is.EqualTo(expected)));
    }

    // ---- bad input ---------------------------------------------------------------------------------

    [Test]
    public void Constructor_RejectsBadSizes()
    {
        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GaussianTuning(0, 4, [], []));
        Assert.That(e1!.ParamName, Is.EqualTo("n"));
        var e2 = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new GaussianTuning(1, 2, [0f], [1f]));
        Assert.That(e2!.ParamName, Is.EqualTo("m"));
        Assert.That(e2.Message, Does.Contain("at least 3").And.Contain("was 2"));
    }

    [Test]
    public void Constructor_RejectsBadBounds()
    {
        var e1 = Assert.Throws<ArgumentException>(() => _ = new GaussianTuning(2, 4, [0f], [1f, 1f]));
        Assert.That(e1!.ParamName, Is.EqualTo("xMin"));
        var e2 = Assert.Throws<ArgumentException>(() => _ = new GaussianTuning(2, 4, [0f, 0f], [1f]));
        Assert.That(e2!.ParamName, Is.EqualTo("xMax"));
        var e3 = Assert.Throws<ArgumentException>(() => _ = new GaussianTuning(2, 4, [0f, 2f], [1f, 2f]));
        Assert.That(e3!.Message, Does.Contain("xMin[1]").And.Contain("xMax[1]"));
        var e4 = Assert.Throws<ArgumentException>(() => _ = new GaussianTuning(2, 4, [0f, float.NaN], [1f, 2f]));
        Assert.That(e4!.ParamName, Is.EqualTo("xMin"));
        Assert.That(e4.Message, Does.Contain("index 1"));
        Assert.Throws<ArgumentException>(() => _ = new GaussianTuning(1, 4, [0f], [float.PositiveInfinity]));
        Assert.Throws<ArgumentException>(() => _ = new GaussianTuning(1, 4, [-3e38f], [3e38f]));
        Assert.Throws<ArgumentException>(() => _ = new GaussianTuning(1, 4, [0f], [1e-30f]));
    }

    [Test]
    public void Encode_RejectsBadArguments_AndLeavesDestinationUntouched()
    {
        var enc = new GaussianTuning(2, 4, [0f, 0f], [1f, 1f]);
        var x = new float[2 * 2 * 3];
        var dst = TestData.Padded(x.Length * 4);
        var payload = dst.AsSpan(TestData.Pad, x.Length * 4);

        var e1 = Assert.Throws<ArgumentOutOfRangeException>(() => enc.Encode(x, 0, new float[48]));
        Assert.That(e1!.ParamName, Is.EqualTo("batchSize"));
        var e2 = Assert.Throws<ArgumentException>(() => enc.Encode(new float[5], 1, new float[48]));
        Assert.That(e2!.ParamName, Is.EqualTo("x"));
        Assert.That(e2.Message, Does.Contain("multiple of batchSize * n = 2").And.Contain("5"));
        Assert.Throws<ArgumentException>(() => enc.Encode(ReadOnlySpan<float>.Empty, 1, new float[48]));
        var e3 = Assert.Throws<ArgumentException>(() => enc.Encode(x, 2, new float[47]));
        Assert.That(e3!.ParamName, Is.EqualTo("destination"));
        Assert.That(e3.Message, Does.Contain("48").And.Contain("47"));
        var e4 = Assert.Throws<ArgumentOutOfRangeException>(() => enc.Encode(x, 2, -1, new float[48]));
        Assert.That(e4!.ParamName, Is.EqualTo("maxSpikeTime"));
        Assert.Throws<ArgumentOutOfRangeException>(() => enc.Encode(x, 2, (1 << 24) + 1, new float[48]));

        x[(1 * 6) + (1 * 3) + 2] = float.NaN; // batch 1, channel 1, sample 2
        var e5 = Assert.Throws<ArgumentException>(() => enc.Encode(x, 2, dst.AsSpan(TestData.Pad, 48)));
        Assert.That(e5!.Message, Does.Contain("(batch 1, channel 1, sample 2)"));
        Assert.That(payload.ToArray(), Is.All.NaN);
    }

    [Test]
    public void LargestMaxSpikeTime_IsAccepted()
    {
        var enc = new GaussianTuning(1, 5, [0f], [1f]);
        var y = EncodeToArray(enc, [0.5f], 1, 1 << 24);
        Assert.That(y[2], Is.Zero);
        Assert.That(y, Is.All.GreaterThanOrEqualTo(-1f));
    }
}
