using TimingBased.Optimizers;

namespace TimingBased.Tests.Optimizers;

public class OptimizerTests
{
    [Test]
    public void Sgd_Plain()
    {
        float[] p = [1f, -2f];
        new Sgd(0.1f).Step(p, [0.5f, 1f]);
        Assert.That(p, Is.EqualTo(new[] { 0.95f, -2.1f }).Within(1e-7f));
    }

    [Test]
    public void Sgd_WeightDecay()
    {
        float[] p = [1f, -2f];
        new Sgd(0.1f, weightDecay: 0.01f).Step(p, [0.5f, 1f]);
        Assert.That(p, Is.EqualTo(new[] { 0.949f, -2.098f }).Within(1e-6f));
    }

    [Test]
    public void Sgd_Momentum_FirstStepCopiesTheGradient()
    {
        float[] p = [1f, -2f];
        var sgd = new Sgd(0.1f, momentum: 0.9f);
        sgd.Step(p, [0.5f, 1f]);
        Assert.That(p, Is.EqualTo(new[] { 0.95f, -2.1f }).Within(1e-6f));
        sgd.Step(p, [0.5f, -1f]); // buf = 0.9 [0.5, 1] + [0.5, -1] = [0.95, -0.1]
        Assert.That(p, Is.EqualTo(new[] { 0.855f, -2.09f }).Within(1e-6f));
        sgd.Reset();
        sgd.Step(p, [1f, 1f]); // after a reset the buffer is a copy again
        Assert.That(p, Is.EqualTo(new[] { 0.755f, -2.19f }).Within(1e-6f));
    }

    [Test]
    public void Sgd_Nesterov()
    {
        float[] p = [1f, -2f];
        var sgd = new Sgd(0.1f, momentum: 0.9f, nesterov: true);
        sgd.Step(p, [0.5f, 1f]); // g + 0.9 buf = [0.95, 1.9]
        Assert.That(p, Is.EqualTo(new[] { 0.905f, -2.19f }).Within(1e-6f));
        sgd.Step(p, [0.5f, -1f]); // buf = [0.95, -0.1]; g + 0.9 buf = [1.355, -1.09]
        Assert.That(p, Is.EqualTo(new[] { 0.7695f, -2.081f }).Within(1e-6f));
    }

    [Test]
    public void Adam_TwoSteps_ByHand()
    {
        float[] p = [1f];
        var adam = new Adam(lr: 0.1f);
        adam.Step(p, [0.5f]);
        // m = 0.05, v = 0.00025; corrected: m^ = 0.5, v^ = 0.25; step = 0.1 * 0.5 / (0.5 + 1e-8)
        Assert.That(p[0], Is.EqualTo(0.9f).Within(1e-6f));
        adam.Step(p, [-0.25f]);
        double m = (0.9 * 0.05) + (0.1 * -0.25), v = (0.999 * 0.00025) + (0.001 * 0.0625);
        var expected = 0.9 - (0.1 / (1 - (0.9 * 0.9)) * m / ((Math.Sqrt(v) / Math.Sqrt(1 - (0.999 * 0.999))) + 1e-8));
        Assert.That(p[0], Is.EqualTo(expected).Within(1e-6));
        Assert.That(adam.StepCount, Is.EqualTo(2));
    }

    [Test]
    public void Adam_WeightDecay_AddsToTheGradient()
    {
        // Two steps, so the update depends on the gradients' sizes and not only their signs (Adam's first step is
        // about lr sign(g) whatever g is): decayed Adam equals plain Adam fed g + wd p, p read before each step.
        float[] a = [2f];
        float[] b = [2f];
        var decayed = new Adam(0.01f, weightDecay: 0.5f);
        var plain = new Adam(0.01f);
        foreach (var g in new[] { 0.25f, -3f })
        {
            decayed.Step(a, [g]);
            plain.Step(b, [g + (0.5f * b[0])]);
        }

        Assert.That(a[0], Is.EqualTo(b[0]));
        float[] undecayed = [2f];
        var without = new Adam(0.01f);
        without.Step(undecayed, [0.25f]);
        without.Step(undecayed, [-3f]);
        Assert.That(undecayed[0], Is.Not.EqualTo(a[0]).Within(1e-4f), "the decay changes the result");
    }

    [Test]
    public void Optimizers_RejectBadArguments()
    {
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(float.NaN))!.ParamName, Is.EqualTo("lr"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(0.1f, momentum: 1f))!.ParamName, Is.EqualTo("momentum"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(0.1f, nesterov: true))!.ParamName, Is.EqualTo("momentum"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Sgd(0.1f, weightDecay: -1))!.ParamName, Is.EqualTo("weightDecay"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(beta1: 1f))!.ParamName, Is.EqualTo("beta1"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(beta2: -0.1f))!.ParamName, Is.EqualTo("beta2"));
        Assert.That(Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Adam(eps: 0f))!.ParamName, Is.EqualTo("eps"));
        var sgd = new Sgd(0.1f, momentum: 0.5f);
        Assert.That(Assert.Throws<ArgumentException>(() => sgd.Step(new float[2], new float[3]))!.ParamName, Is.EqualTo("gradient"));
        sgd.Step(new float[2], new float[2]);
        Assert.That(Assert.Throws<ArgumentException>(() => sgd.Step(new float[3], new float[3]))!.ParamName, Is.EqualTo("parameters"));
    }

    [Test]
    public void Steps_DoNotAllocate_AfterTheFirst()
    {
        var p = new float[1000];
        var g = new float[1000];
        IOptimizer[] all = [new Sgd(0.1f, momentum: 0.9f), new Adam()];
        foreach (var opt in all)
        {
            opt.Step(p, g);
            var before = GC.GetAllocatedBytesForCurrentThread();
            opt.Step(p, g);
            opt.Step(p, g);
            Assert.That(GC.GetAllocatedBytesForCurrentThread() - before, Is.Zero, opt.GetType().Name);
        }
    }

    /// <summary>Vector and scalar paths against a plain loop, at lengths around the vector widths.</summary>
    [Test]
    public void VectorPaths_MatchAPlainLoop([ValueSource(typeof(TestData), nameof(TestData.VectorBoundarySizes))] int n)
    {
        var rng = new Random(n);
        var p0 = TestData.Uniform(rng, n, -1, 1);
        var g1 = TestData.Uniform(rng, n, -1, 1);
        var g2 = TestData.Uniform(rng, n, -1, 1);
        foreach (var nesterov in new[] { false, true })
        {
            var p = (float[])p0.Clone();
            var sgd = new Sgd(0.1f, momentum: 0.8f, weightDecay: 0.01f, nesterov: nesterov);
            sgd.Step(p, g1);
            sgd.Step(p, g2);
            for (var k = 0; k < n; k++)
            {
                double x = p0[k], buf = 0;
                foreach (var (g, first) in new[] { (g1[k], true), (g2[k], false) })
                {
                    var d = g + (0.01 * x);
                    buf = first ? d : (0.8 * buf) + d;
                    x -= 0.1 * (nesterov ? d + (0.8 * buf) : buf);
                }

                Assert.That(p[k], Is.EqualTo(x).Within(1e-5), $"sgd nesterov={nesterov} [{k}]");
            }
        }

        var pa = (float[])p0.Clone();
        var adam = new Adam(0.05f, weightDecay: 0.1f);
        adam.Step(pa, g1);
        adam.Step(pa, g2);
        for (var k = 0; k < n; k++)
        {
            double x = p0[k], m = 0, v = 0;
            var step = 0;
            foreach (var g0 in new[] { g1[k], g2[k] })
            {
                step++;
                var g = g0 + (0.1 * x);
                m = (0.9 * m) + (0.1 * g);
                v = (0.999 * v) + (0.001 * g * g);
                x -= 0.05 / (1 - Math.Pow(0.9, step)) * m / ((Math.Sqrt(v) / Math.Sqrt(1 - Math.Pow(0.999, step))) + 1e-8);
            }

            Assert.That(pa[k], Is.EqualTo(x).Within(1e-5), $"adam [{k}]");
        }
    }
}

/// <summary>The optimizers against their formulas written as plain float loops, bit for bit, over many lengths.</summary>
public class OptimizerFormulaTests
{
    private static readonly int[] _lengths = [1, 2, 3, 7, 8, 15, 16, 17, 31, 33, 64, 65, 100];

    [Test]
    public void Sgd_IsItsFormulaBitForBit([Values(0f, 0.9f)] float momentum, [Values] bool nesterov, [Values(0f, 0.01f)] float weightDecay)
    {
        if (nesterov && momentum == 0)
        {
            return; // not a valid configuration (tested elsewhere)
        }

        foreach (var n in _lengths)
        {
            var rng = new Random(n);
            var p = TestData.Uniform(rng, n, -1f, 1f);
            var expected = (float[])p.Clone();
            float[]? buf = null;
            var sgd = new Sgd(0.1f, momentum, weightDecay, nesterov);
            for (var step = 0; step < 3; step++)
            {
                var g = TestData.Uniform(rng, n, -1f, 1f);
                sgd.Step(p, g);
                var first = buf is null;
                buf ??= new float[n];
                for (var k = 0; k < n; k++)
                {
                    var gk = g[k] + (weightDecay * expected[k]);
                    var d = gk;
                    if (momentum != 0)
                    {
                        buf[k] = Flush(first ? gk : (momentum * buf[k]) + gk);
                        d = nesterov ? gk + (momentum * buf[k]) : buf[k];
                    }

                    expected[k] -= 0.1f * d;
                }

                Assert.That(p, Is.EqualTo(expected), $"length {n}, step {step}");
            }
        }
    }

    [Test]
    public void Sgd_Plain_IsItsFormulaBitForBit_WithSignedZeros([Values(0f, 0.1f, -0f)] float lr, [Values(1, 16, 37)] int n)
    {
        // Plain SGD writes p - lr g without the formula's "+ 0 p" and leaves a lane with g = +0 unwritten for a rate with
        // its sign bit clear (see Sgd.CommitPlain): every combination of signed zeros must still give the formula's
        // bits, the rate -0 (which has its sign bit set) included.
        float[] ps = [0f, -0f, 1f, -1f, 3e-39f];
        float[] gs = [0f, -0f, 1e-3f, -1e-3f];
        var rng = new Random(n);
        var p = Enumerable.Range(0, n).Select(_ => ps[rng.Next(ps.Length)]).ToArray();
        var g = Enumerable.Range(0, n).Select(_ => gs[rng.Next(gs.Length)]).ToArray();
        var expected = p.Select((x, k) => x - (lr * (g[k] + (0f * x)))).ToArray();

        new Sgd(0.5f) { LearningRate = lr }.Step(p, g);

        Assert.That(p.Select(BitConverter.SingleToInt32Bits), Is.EqualTo(expected.Select(BitConverter.SingleToInt32Bits)));
    }

    [Test]
    public void Adam_IsItsFormulaBitForBit([Values(0f, 0.01f)] float weightDecay)
    {
        foreach (var n in _lengths)
        {
            var rng = new Random(n + 1000);
            var p = TestData.Uniform(rng, n, -1f, 1f);
            var expected = (float[])p.Clone();
            var m = new float[n];
            var v = new float[n];
            var adam = new Adam(0.01f, 0.9f, 0.999f, 1e-8f, weightDecay);
            for (var step = 1; step <= 3; step++)
            {
                var g = TestData.Uniform(rng, n, -1f, 1f);
                adam.Step(p, g);
                var stepSize = (float)(0.01f / (1.0 - Math.Pow(0.9f, step)));
                var bias2Sqrt = (float)Math.Sqrt(1.0 - Math.Pow(0.999f, step));
                for (var k = 0; k < n; k++)
                {
                    var gk = g[k] + (weightDecay * expected[k]);
                    m[k] = Flush((0.9f * m[k]) + ((1 - 0.9f) * gk));
                    v[k] = Flush((0.999f * v[k]) + ((1 - 0.999f) * gk * gk));
                    expected[k] -= stepSize * m[k] / ((MathF.Sqrt(v[k]) / bias2Sqrt) + 1e-8f);
                }

                Assert.That(p, Is.EqualTo(expected), $"length {n}, step {step}");
            }
        }
    }

    [Test]
    public void SubnormalState_IsStoredAsZero([Values(1, 8, 17, 33)] int n)
    {
        // A tiny gradient, then zero gradients (a weight whose neuron stopped firing): the moments decay geometrically
        // and would pass through the subnormal range; they are stored as exact zeros instead, on the vector path and
        // on the scalar tail, and the parameters never move by more than the formula says.
        var p = Enumerable.Repeat(0.25f, n).ToArray();
        var adam = new Adam(0.01f);
        var sgd = new Sgd(0.01f, momentum: 0.5f);
        var q = (float[])p.Clone();
        var g = Enumerable.Repeat(3e-37f, n).ToArray();
        adam.Step(p, g);
        sgd.Step(q, g);
        Array.Clear(g);
        for (var step = 0; step < 200; step++)
        {
            adam.Step(p, g);
            sgd.Step(q, g);
            foreach (var (name, state) in new[] { ("Adam m", State(adam, "_m")), ("Adam v", State(adam, "_v")), ("SGD momentum", State(sgd, "_momentumBuffer")) })
            {
                Assert.That(state.All(x => x == 0f || MathF.Abs(x) >= 1.17549435E-38f), $"{name} after {step + 1} zero-gradient steps");
            }
        }

        Assert.That(State(adam, "_m"), Is.All.EqualTo(0f), "the first moment has decayed to zero");
        Assert.That(State(sgd, "_momentumBuffer"), Is.All.EqualTo(0f));
        Assert.That(p, Is.All.EqualTo(0.25f).Within(1e-6f));
        Assert.That(q, Is.All.EqualTo(0.25f));
    }

    /// <summary>The documented flush: a subnormal optimizer state value is stored as 0.</summary>
    private static float Flush(float x) => MathF.Abs(x) < 1.17549435E-38f ? 0f : x;

    private static float[] State(object optimizer, string field) =>
        (float[])optimizer.GetType().GetField(field, System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!.GetValue(optimizer)!;
}
