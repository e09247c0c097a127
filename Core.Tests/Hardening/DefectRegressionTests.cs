using System.Buffers.Binary;
using System.IO.Compression;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;

namespace TimingBased.Tests.Hardening;

/// <summary>One test per defect of the hardening issue (#13); each failed before its fix.</summary>
public class DefectRegressionTests
{
    // Defect 1: T unbounded, sizes computed in 32 bits.
    [TestCase(4, 1, (1 << 29) + 1)]
    [TestCase(2, 65536, 65537)]
    [TestCase(1, 1, int.MaxValue)]
    [TestCase(1, 1, Tempotron.MaxT + 1)]
    [TestCase(1, 17, Tempotron.MaxT)]
    public void Constructor_SizeBeyondTheLimits_ThrowsNamingTheRule(int inFeatures, int outFeatures, int t)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(inFeatures, outFeatures, t))!;
        Assert.That(e.ParamName, Is.AnyOf("t", "outFeatures"));
        Assert.That(e.Message, Does.Contain(t == int.MaxValue || t == Tempotron.MaxT + 1 || t == (1 << 29) + 1 ? "t" : "T *"));
    }

    [Test]
    public void Constructor_WeightStorageBeyondTheLimit_ThrowsNamingInFeatures()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron((Tempotron.MaxWeightStorage / 16) + 1, 16, 1))!;
        Assert.That(e.ParamName, Is.EqualTo("inFeatures"));
        Assert.That(e.Message, Does.Contain(Tempotron.MaxWeightStorage.ToString(System.Globalization.CultureInfo.InvariantCulture)));
    }

    [Test]
    public void LargestT_GivesTheRightMaximum()
    {
        // One input with weight 1 spiking at 5e5: its PSP peaks at the threshold (1) tPeak later, inside the window.
        var model = new Tempotron(4, 1, Tempotron.MaxT, [1f, 0f, 0f, 0f]);
        var vMax = new float[1];
        model.MaxVoltage([500_000f, -1f, -1f, -1f], 1, vMax);
        Assert.That(vMax[0], Is.EqualTo(1f).Within(1e-4f));
    }

    [TestCase("99", true)]
    [TestCase("536870913", false)]
    [TestCase("1048577", false)]
    [TestCase("2147483647", false)]
    public void SafetensorsLoad_AppliesTheSizeLimitsToMetadataT(string t, bool valid)
    {
        var header = $"{{\"__metadata__\":{{\"T\":\"{t}\"}},\"model.summation_layer.weight\":{{\"dtype\":\"F32\",\"shape\":[1,4],\"data_offsets\":[0,16]}}}}";
        var file = Build(header, F32(1f, 2f, 3f, 4f));
        if (valid)
        {
            Assert.That(TempotronSafetensors.Load(file).T, Is.EqualTo(99));
            return;
        }

        var e = Assert.Throws<InvalidDataException>(() => TempotronSafetensors.Load(file))!;
        Assert.That(e.InnerException, Is.InstanceOf<ArgumentOutOfRangeException>());
    }

    // Defect 2: outFeatures near int.MaxValue.
    [TestCase(1)]
    [TestCase(2)]
    public void Constructor_OutFeaturesNearIntMax_ThrowsArgumentOutOfRange(int inFeatures)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(inFeatures, int.MaxValue, 10))!;
        Assert.That(e.ParamName, Is.EqualTo("outFeatures"));
    }

    // Defect 3: extreme but finite time constants.
    [TestCase(1e-300, 2e-300)]
    [TestCase(1e-3, 2e-3)]
    [TestCase(1e300, 2e300)]
    public void Constructor_ExtremeTimeConstants_Throw(double tau, double tauS)
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => _ = new Tempotron(2, 1, 10, tau, tauS))!;
        Assert.That(e.ParamName, Is.EqualTo("tau"));
    }

    // Defect 4: an optimizer step that would write non-finite weights.
    [Test]
    public void TrainerStep_WhoseUpdateOverflows_ThrowsAndChangesNothing()
    {
        var model = new Tempotron(2, 2, 10, [3e38f, 0.5f, -0.5f, 0.25f]);
        var sgd = new Sgd(0.1f, momentum: 0.5f, weightDecay: 10f);
        var trainer = new TempotronTrainer(model, sgd);
        var before = Weights(model);
        Assert.Throws<InvalidOperationException>(() => trainer.Step([1f, 2f], [1]));
        Assert.That(Weights(model), Is.EqualTo(before));

        // The optimizer state is untouched too: after the failure it acts as a fresh one.
        model.SetWeights([1f, 0.5f, -0.5f, 0.25f]);
        var twin = new Tempotron(2, 2, 10, [1f, 0.5f, -0.5f, 0.25f]);
        new TempotronTrainer(twin, new Sgd(0.1f, momentum: 0.5f, weightDecay: 10f)).Step([1f, 2f], [1]);
        trainer.Step([1f, 2f], [1]);
        Assert.That(Weights(model), Is.EqualTo(Weights(twin)));
    }

    [Test]
    public void ApplyGradient_WhoseUpdateOverflows_ThrowsAndChangesNothing()
    {
        var model = new Tempotron(2, 1, 10, [3e38f, 1f]);
        var adam = new Adam(lr: 1f);
        var before = Weights(model);
        Assert.Throws<InvalidOperationException>(() => model.ApplyGradient(new Sgd(0.1f, weightDecay: 10f), [1f, 1f]));
        Assert.That(Weights(model), Is.EqualTo(before));
        model.ApplyGradient(adam, [1f, 1f]);
        Assert.That(adam.StepCount, Is.EqualTo(1));
        model.SetWeights([float.MaxValue, 1f]);
        var after = Weights(model);
        Assert.Throws<InvalidOperationException>(() => model.ApplyGradient(new Sgd(1f), [-float.MaxValue, 0f]));
        Assert.That(Weights(model), Is.EqualTo(after));
        Assert.That(adam.StepCount, Is.EqualTo(1));
    }

    // Defect 5: partial writes before a throw.
    [TestCase(1)]
    [TestCase(2)]
    public void Forward_WithNaNInALaterSample_WritesNothing(int degree)
    {
        var model = new Tempotron(3, 2, 10) { MaxDegreeOfParallelism = degree };
        float[] input = [1f, 2f, 3f, 1f, float.NaN, 3f];
        foreach (var length in new[] { 4, 4, 40 })
        {
            var destination = Sentinels(length);
            Assert.Throws<ArgumentException>(() =>
            {
                if (length == 40)
                {
                    model.Voltage(input, 2, destination);
                }
                else
                {
                    model.MaxVoltage(input, 2, destination);
                }
            });
            Assert.That(destination, Is.EqualTo(Sentinels(length)));
            destination = Sentinels(4);
            Assert.Throws<ArgumentException>(() => model.SpikeTimes(input, 2, destination));
            Assert.That(destination, Is.EqualTo(Sentinels(4)));
        }
    }

    [TestCase(1)]
    [TestCase(2)]
    public void Backward_WithNaNInALaterSample_WritesNothing(int degree)
    {
        var model = new Tempotron(3, 2, 10) { MaxDegreeOfParallelism = degree };
        float[] input = [1f, 2f, 3f, 1f, float.NaN, 3f];
        var dW = Sentinels(6);
        var dIn = Sentinels(6);
        Assert.Throws<ArgumentException>(() => model.MaxVoltageBackward(input, 2, [1f, 1f, 1f, 1f], dW, dIn));
        Assert.Throws<ArgumentException>(() => model.SpikeTimesBackward(input, 2, [1f, 1f, 1f, 1f], dW, dIn));
        Assert.Throws<ArgumentException>(() => model.VoltageBackward(input, 2, new float[40], dW, dIn));
        Assert.Throws<ArgumentException>(() => model.LossGradient(input, [0, 1], dW));
        Assert.That(dW, Is.EqualTo(Sentinels(6)));
        Assert.That(dIn, Is.EqualTo(Sentinels(6)));
    }

    [Test]
    public void ParallelWorkers_ReportTheFirstNaN_WhateverTheirTiming()
    {
        var model = new Tempotron(5, 3, 12) { MaxDegreeOfParallelism = 2 };
        var trainer = new TempotronTrainer(model, new Sgd(0.1f));
        var input = Enumerable.Range(0, 40 * 5).Select(k => (float)(k % 11)).ToArray();
        input[(31 * 5) + 4] = float.NaN; // a later sample first in the array's order of workers
        input[(7 * 5) + 2] = float.NaN;
        var labels = new int[40];
        for (var trial = 0; trial < 20; trial++)
        {
            var vMax = new float[40 * 3];
            var e = Assert.Throws<ArgumentException>(() => model.MaxVoltage(input, 40, vMax))!;
            Assert.That(e.Message, Does.Contain("(batch 7, input 2)"));
            Assert.That(vMax, Is.All.Zero, "nothing written");
            e = Assert.Throws<ArgumentException>(() => trainer.Step(input, labels))!;
            Assert.That(e.Message, Does.Contain("(batch 7, input 2)"));
        }
    }

    // Defect 6: IDX reader.
    [Test]
    public void IdxImages_WhoseDimensionsOverflow_AreRejected()
    {
        var data = new byte[16];
        BinaryPrimitives.WriteInt32BigEndian(data, 0x00000803);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), 1 << 21);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), 1 << 21);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(12), 1 << 22);
        var e = Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(data)))!;
        Assert.That(e.Message, Does.Contain("2097152 x 2097152 x 4194304"));
    }

    [TestCase(1)]
    [TestCase(4)]
    [TestCase(8)]
    public void IdxGzip_WithItsTrailerCut_IsRejected(int cut)
    {
        var labels = new byte[8 + 20];
        BinaryPrimitives.WriteInt32BigEndian(labels, 0x00000801);
        BinaryPrimitives.WriteInt32BigEndian(labels.AsSpan(4), 20);
        using var compressed = new MemoryStream();
        using (var gz = new GZipStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            gz.Write(labels);
        }

        var whole = compressed.ToArray();
        Assert.That(IdxFile.ReadLabels(new MemoryStream(whole)), Has.Length.EqualTo(20));
        var truncated = whole.AsSpan(0, whole.Length - cut).ToArray();
        Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(new MemoryStream(truncated)));
        var corrupt = (byte[])whole.Clone();
        corrupt[^6] ^= 1; // a CRC byte
        Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(new MemoryStream(corrupt)));
    }

    // Defect 7: safetensors layout and dtypes.
    [Test]
    public void Safetensors_ZeroSizeTensorListedAfterTheWeights_Loads()
    {
        const string weights = "\"model.summation_layer.weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}";
        const string empty = "\"empty\":{\"dtype\":\"F32\",\"shape\":[0],\"data_offsets\":[0,0]}";
        foreach (var header in new[] { $"{{{empty},{weights}}}", $"{{{weights},{empty}}}" })
        {
            var model = TempotronSafetensors.Load(Build(header, F32(1f, 2f)), new TempotronFileOverrides { T = 10 });
            Assert.That(Weights(model), Is.EqualTo(new[] { 1f, 2f }));
        }
    }

    [TestCase("F8_E4M3", "[3]", 3)]
    [TestCase("F8_E5M2", "[2]", 2)]
    [TestCase("I64", "[2]", 16)]
    [TestCase("U8", "[5]", 5)]
    [TestCase("BOOL", "[1]", 1)]
    [TestCase("C64", "[1]", 8)]
    [TestCase("F4", "[4]", 2)]
    [TestCase("F6_E2M3", "[4]", 3)]
    public void Safetensors_UnrelatedTensorOfAnotherDtype_IsIgnored(string dtype, string shape, int bytes)
    {
        var header = $"{{\"model.summation_layer.weight\":{{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}},\"other\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[8,{8 + bytes}]}}}}";
        var body = new byte[8 + bytes];
        F32(1f, 2f).CopyTo(body, 0);
        var model = TempotronSafetensors.Load(Build(header, body), new TempotronFileOverrides { T = 10 });
        Assert.That(Weights(model), Is.EqualTo(new[] { 1f, 2f }));

        var wrongSize = $"{{\"model.summation_layer.weight\":{{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]}},\"other\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[8,{9 + bytes}]}}}}";
        Assert.Throws<InvalidDataException>(() => TempotronSafetensors.Load(Build(wrongSize, [.. body, 0]), new TempotronFileOverrides { T = 10 }));
    }

    // Defect 8: empty labels in Evaluate.
    [Test]
    public void Evaluate_WithEmptyLabels_NamesTheLabels()
    {
        var trainer = new TempotronTrainer(new Tempotron(2, 2, 10), new Sgd(0.1f));
        var e = Assert.Throws<ArgumentException>(() => trainer.Evaluate([1f, 2f], []))!;
        Assert.That(e.ParamName, Is.EqualTo("labels"));
    }

    private static float[] Weights(Tempotron model)
    {
        var w = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        return w;
    }

    private static float[] Sentinels(int length) => Enumerable.Range(0, length).Select(k => 1000f + k).ToArray();

    private static byte[] Build(string header, byte[] body) => Tests.IO.TempotronSafetensorsTests.Build(header, body);

    private static byte[] F32(params float[] values) => Tests.IO.TempotronSafetensorsTests.F32(values);
}
