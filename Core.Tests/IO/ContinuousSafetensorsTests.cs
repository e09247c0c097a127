using System.Buffers.Binary;
using TimingBased.Events;
using TimingBased.IO;
using TimingBased.Neurons;

namespace TimingBased.Tests.IO;

/// <summary>Model files of the exact and the multi-spike Tempotron.</summary>
public class ContinuousSafetensorsTests
{
    private static double[] Weights(ExactTempotron m)
    {
        var w = new double[m.Afferents * m.Outputs];
        m.CopyWeightsTo(w);
        return w;
    }

    private static double[] Weights(MultiSpikeTempotron m)
    {
        var w = new double[m.Afferents * m.Outputs];
        m.CopyWeightsTo(w);
        return w;
    }

    private static long[] Bits(double[] values) => [.. values.Select(BitConverter.DoubleToInt64Bits)];

    [Test]
    public void ExactModel_RoundTripsBitExactly_WithItsConstants()
    {
        var model = new ExactTempotron(13, 3, window: 123.25, tau: 7, tauS: 9.5, threshold: 1.25);
        model.RandomizeWeights(4, 0.3);
        var w = Weights(model);
        w[0] = -0.0;
        w[1] = double.Epsilon;
        w[2] = 1e300;
        w[3] = 0.1;
        model.SetWeights(w);

        var loaded = TempotronSafetensors.LoadExact(TempotronSafetensors.ToBytes(model));
        Assert.That(Bits(Weights(loaded)), Is.EqualTo(Bits(w)));
        Assert.That((loaded.Afferents, loaded.Outputs, loaded.Window, loaded.Tau, loaded.TauS, loaded.Threshold),
            Is.EqualTo((13, 3, 123.25, 7.0, 9.5, 1.25)));
        Assert.That(loaded.IsFrozen, Is.False);

        var path = Path.Combine(Path.GetTempPath(), $"tb-{Guid.NewGuid():N}.safetensors");
        try
        {
            TempotronSafetensors.Save(model, path);
            Assert.That(Bits(Weights(TempotronSafetensors.LoadExact(path))), Is.EqualTo(Bits(w)));
            var target = new ExactTempotron(13, 3, window: 123.25, tau: 7, tauS: 9.5, threshold: 1.25);
            TempotronSafetensors.LoadInto(target, File.ReadAllBytes(path));
            Assert.That(Bits(Weights(target)), Is.EqualTo(Bits(w)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void MultiSpikeModel_RoundTripsBitExactly_AndEvaluatesTheSame()
    {
        var model = new MultiSpikeTempotron(11, 2, window: 80, tau: 20, tauS: 5, threshold: 0.75);
        model.RandomizeWeights(9, 0.4);
        var loaded = TempotronSafetensors.LoadMultiSpike(TempotronSafetensors.ToBytes(model));
        Assert.That(Bits(Weights(loaded)), Is.EqualTo(Bits(Weights(model))));
        Assert.That((loaded.Window, loaded.Tau, loaded.TauS, loaded.Threshold), Is.EqualTo((80.0, 20.0, 5.0, 0.75)));

        var events = new SpikeEvents(11);
        events.AddPattern([0, 3, 5, 7, 9, 10, 1], [1.0, 4.5, 9.0, 9.0, 30.25, 31, 60]);
        var a = new double[64];
        var b = new double[64];
        Assert.That(loaded.Spikes(events[0], 1, b), Is.EqualTo(model.Spikes(events[0], 1, a)));
        Assert.That(b, Is.EqualTo(a));
    }

    [Test]
    public void SavedBytes_MatchTheSpecification()
    {
        var model = new ExactTempotron(2, 1, window: 10, tau: 15, tauS: 3.75, threshold: 1);
        model.SetWeights([0.5, -2]);
        var bytes = TempotronSafetensors.ToBytes(model);
        var headerLength = (int)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, headerLength);
        Assert.That(headerLength % 8, Is.Zero);
        Assert.That(header.TrimEnd(), Is.EqualTo(
            "{\"__metadata__\":{\"model\":\"ExactTempotron\",\"afferents\":\"2\",\"outputs\":\"1\",\"window\":\"10\",\"tau\":\"15\",\"tau_s\":\"3.75\",\"threshold\":\"1\"},"
            + "\"weight\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[0,16]}}"));
        Assert.That(BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(8 + headerLength)), Is.EqualTo(0.5));
        Assert.That(BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(16 + headerLength)), Is.EqualTo(-2.0));
    }

    private static byte[] ExactFile(string metadata, string dtype = "F64", string shape = "[1,2]", byte[]? body = null)
    {
        body ??= new byte[16];
        return TempotronSafetensorsTests.Build(
            $"{{\"__metadata__\":{{{metadata}}},\"weight\":{{\"dtype\":\"{dtype}\",\"shape\":{shape},\"data_offsets\":[0,{body.Length}]}}}}", body);
    }

    private const string Constants = "\"window\":\"10\",\"tau\":\"15\",\"tau_s\":\"3.75\",\"threshold\":\"1\"";

    private static IEnumerable<TestCaseData> Refused()
    {
        yield return new TestCaseData(ExactFile(Constants), "no \"model\"").SetName("Refused_NoKind");
        yield return new TestCaseData(ExactFile("\"model\":\"MultiSpikeTempotron\"," + Constants), "holds a MultiSpikeTempotron").SetName("Refused_OtherKind");
        yield return new TestCaseData(ExactFile("\"model\":\"ExactTempotron\",\"window\":\"10\",\"tau\":\"15\",\"threshold\":\"1\""), "\"tau_s\"").SetName("Refused_MissingConstant");
        yield return new TestCaseData(ExactFile("\"model\":\"ExactTempotron\",\"window\":\"-1\",\"tau\":\"15\",\"tau_s\":\"3.75\",\"threshold\":\"1\""), "invalid model parameters").SetName("Refused_BadWindow");
        yield return new TestCaseData(ExactFile("\"model\":\"ExactTempotron\",\"window\":\"x\",\"tau\":\"15\",\"tau_s\":\"3.75\",\"threshold\":\"1\""), "not a number").SetName("Refused_WindowNotANumber");
        yield return new TestCaseData(ExactFile("\"model\":\"ExactTempotron\",\"outputs\":\"2\"," + Constants), "outputs = 2").SetName("Refused_ShapeDisagrees");
        var nan = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(nan.AsSpan(8), double.NaN);
        yield return new TestCaseData(ExactFile("\"model\":\"ExactTempotron\"," + Constants, body: nan), "non-finite weight NaN at [0, 1]").SetName("Refused_NaNWeight");
        yield return new TestCaseData(ExactFile("\"model\":\"ExactTempotron\"," + Constants, dtype: "I64"), "must be F32").SetName("Refused_IntegerDtype");
        yield return new TestCaseData(TempotronSafetensors.ToBytes(new Tempotron(2, 1, 5)), "has no tensor \"weight\"").SetName("Refused_GridFile");
        yield return new TestCaseData(new byte[3], "header length").SetName("Refused_Truncated");
    }

    [TestCaseSource(nameof(Refused))]
    public void HostileOrForeignFiles_AreRefused_SayingWhy(byte[] file, string expect)
    {
        Assert.That(() => TempotronSafetensors.LoadExact(file), Throws.TypeOf<InvalidDataException>().With.Message.Contains(expect));
        var target = new ExactTempotron(2, 1, window: 10);
        target.SetWeights([1, 2]);
        Assert.That(() => TempotronSafetensors.LoadInto(target, file), Throws.TypeOf<InvalidDataException>());
        Assert.That(Weights(target), Is.EqualTo(new[] { 1.0, 2.0 }));
    }

    [Test]
    public void F32Weights_AreWidenedExactly()
    {
        var body = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(body, 0.1f);
        BinaryPrimitives.WriteSingleLittleEndian(body.AsSpan(4), -3f);
        var loaded = TempotronSafetensors.LoadMultiSpike(ExactFile("\"model\":\"MultiSpikeTempotron\"," + Constants, dtype: "F32", body: body));
        Assert.That(Weights(loaded), Is.EqualTo(new[] { (double)0.1f, -3.0 }));
    }

    [Test]
    public void LoadInto_RefusesOtherSettings_AndKeepsTheModel()
    {
        var source = new ExactTempotron(3, 2, window: 40, tau: 15, tauS: 3.75);
        source.RandomizeWeights(1, 0.5);
        var file = TempotronSafetensors.ToBytes(source);
        foreach (var target in new[]
        {
            new ExactTempotron(3, 2, window: 41, tau: 15, tauS: 3.75),
            new ExactTempotron(3, 2, window: 40, tau: 15.000000000000002, tauS: 3.75),
            new ExactTempotron(3, 2, window: 40, tau: 15, tauS: 3.75, threshold: 1.5),
            new ExactTempotron(2, 3, window: 40, tau: 15, tauS: 3.75),
        })
        {
            target.RandomizeWeights(7, 0.1);
            var before = Weights(target);
            Assert.That(() => TempotronSafetensors.LoadInto(target, file), Throws.TypeOf<InvalidDataException>().With.Message.Contains("the model"));
            Assert.That(Weights(target), Is.EqualTo(before));
        }
    }

    [Test]
    public void GridLoadInto_RefusesAFileWithOtherSettings_AcceptsOneWithout()
    {
        var source = new Tempotron(3, 2, 20, tau: 12, seed: 1);
        var target = new Tempotron(3, 2, 50, seed: 2);
        var before = new float[6];
        target.CopyWeightsTo(before);
        Assert.That(() => TempotronSafetensors.LoadInto(target, TempotronSafetensors.ToBytes(source)),
            Throws.TypeOf<InvalidDataException>().With.Message.Contains("T = 20").And.Message.Contains("T = 50"));
        var after = new float[6];
        target.CopyWeightsTo(after);
        Assert.That(after, Is.EqualTo(before));

        // A SpikingJelly state_dict saved with save_file has no metadata: only its shape is checked.
        var bare = TempotronSafetensorsTests.Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}", TempotronSafetensorsTests.F32(1, 2, 3, 4, 5, 6));
        TempotronSafetensors.LoadInto(target, bare);
        target.CopyWeightsTo(after);
        Assert.That(after, Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
    }

    /// <summary>Seeded mutations of a valid file: only InvalidDataException escapes, and a failed load into a model changes nothing.</summary>
    [Test]
    public void Fuzz_MutatedFiles_OnlyRaiseInvalidDataException()
    {
        var source = new MultiSpikeTempotron(4, 3, window: 30);
        source.RandomizeWeights(3, 0.5);
        var valid = TempotronSafetensors.ToBytes(source);
        var target = new MultiSpikeTempotron(4, 3, window: 30);
        target.RandomizeWeights(4, 0.5);
        var original = Weights(target);
        var rng = new Random(77);
        var rejected = 0;
        for (var n = 0; n < 5_000; n++)
        {
            var file = (byte[])valid.Clone();
            if (rng.Next(2) == 0)
            {
                var bit = rng.Next(file.Length * 8);
                file[bit / 8] ^= (byte)(1 << (bit % 8));
            }
            else
            {
                file = file[..rng.Next(file.Length)];
            }

            try
            {
                _ = TempotronSafetensors.LoadMultiSpike(file);
                TempotronSafetensors.LoadInto(target, file);
                target.SetWeights(original);
            }
            catch (InvalidDataException)
            {
                rejected++;
                Assert.That(Weights(target), Is.EqualTo(original));
            }
        }

        Assert.That(rejected, Is.GreaterThan(2_500));
    }
}
