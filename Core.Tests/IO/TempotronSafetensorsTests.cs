using System.Buffers.Binary;
using TimingBased.IO;
using TimingBased.Neurons;

namespace TimingBased.Tests.IO;

public class TempotronSafetensorsTests
{
    /// <summary>A safetensors file built by hand from the specification.</summary>
    internal static byte[] Build(string header, byte[] body)
    {
        var h = System.Text.Encoding.UTF8.GetBytes(header);
        var file = new byte[8 + h.Length + body.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)h.Length);
        h.CopyTo(file, 8);
        body.CopyTo(file, 8 + h.Length);
        return file;
    }

    internal static byte[] F32(params float[] values)
    {
        var b = new byte[values.Length * 4];
        for (var k = 0; k < values.Length; k++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(b.AsSpan(k * 4), values[k]);
        }

        return b;
    }

    private static float[] Weights(Tempotron model)
    {
        var w = new float[model.WeightCount];
        model.CopyWeightsTo(w);
        return w;
    }

    [Test]
    public void SavedBytes_MatchTheSpecification()
    {
        var model = new Tempotron(3, 2, 7, [1f, 2f, 3f, -4f, 0.5f, -0.25f], tau: 15, tauS: 3.75, vThreshold: 1);
        var header = "{\"__metadata__\":{\"T\":\"7\",\"in_features\":\"3\",\"out_features\":\"2\",\"tau\":\"15\",\"tau_s\":\"3.75\",\"v_threshold\":\"1\"}," +
                     "\"model.summation_layer.weight\":{\"dtype\":\"F32\",\"shape\":[2,3],\"data_offsets\":[0,24]}}";
        while (header.Length % 8 != 0)
        {
            header += " ";
        }

        var expected = Build(header, F32(1f, 2f, 3f, -4f, 0.5f, -0.25f));
        Assert.That(TempotronSafetensors.ToBytes(model), Is.EqualTo(expected));
    }

    [Test]
    public void RoundTrip_IsExact_ThroughBytesStreamAndFile()
    {
        var model = new Tempotron(37, 5, 60, tau: 20, tauS: 4, vThreshold: 1.5, seed: 3);
        var bytes = TempotronSafetensors.ToBytes(model);
        var a = TempotronSafetensors.Load(bytes);
        Assert.That(Weights(a), Is.EqualTo(Weights(model)));
        Assert.That((a.InFeatures, a.OutFeatures, a.T, a.Tau, a.TauS, a.VThreshold), Is.EqualTo((37, 5, 60, 20.0, 4.0, 1.5)));

        using var stream = new MemoryStream();
        TempotronSafetensors.Save(model, stream);
        stream.Position = 0;
        Assert.That(Weights(TempotronSafetensors.Load(stream)), Is.EqualTo(Weights(model)));

        var path = Path.Combine(Path.GetTempPath(), $"tb-{Guid.NewGuid():N}.safetensors");
        try
        {
            TempotronSafetensors.Save(model, path);
            var target = new Tempotron(37, 5, 60, tau: 20, tauS: 4, vThreshold: 1.5, seed: 9); // LoadInto requires the file's settings
            TempotronSafetensors.LoadInto(target, path);
            Assert.That(Weights(target), Is.EqualTo(Weights(model)));
            Assert.That(Weights(TempotronSafetensors.Load(path)), Is.EqualTo(Weights(model)));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void Load_AcceptsTheLegacyKey_OtherDtypes_AndOverrides()
    {
        var f64 = new byte[16];
        BinaryPrimitives.WriteDoubleLittleEndian(f64, 0.1);
        BinaryPrimitives.WriteDoubleLittleEndian(f64.AsSpan(8), -2.5);
        var m1 = TempotronSafetensors.Load(Build("{\"fc.weight\":{\"dtype\":\"F64\",\"shape\":[1,2],\"data_offsets\":[0,16]}}", f64),
            new TempotronFileOverrides { T = 9 });
        Assert.That(Weights(m1), Is.EqualTo(new[] { 0.1f, -2.5f }));
        Assert.That((m1.T, m1.Tau, m1.TauS, m1.VThreshold), Is.EqualTo((9, 15.0, 3.75, 1.0)));

        var f16 = new byte[4];
        BinaryPrimitives.WriteHalfLittleEndian(f16, (Half)0.5f);
        BinaryPrimitives.WriteHalfLittleEndian(f16.AsSpan(2), (Half)(-3f));
        var m2 = TempotronSafetensors.Load(Build("{\"__metadata__\":{\"T\":\"4\",\"tau\":\"10\"},\"model.summation_layer.weight\":{\"dtype\":\"F16\",\"shape\":[2,1],\"data_offsets\":[0,4]}}", f16),
            new TempotronFileOverrides { Tau = 12 });
        Assert.That(Weights(m2), Is.EqualTo(new[] { 0.5f, -3f }));
        Assert.That((m2.T, m2.Tau), Is.EqualTo((4, 12.0)), "explicit arguments override the metadata");

        var bf16 = new byte[] { 0x80, 0x3f, 0x40, 0xc0 }; // 1.0, -3.0
        var m3 = TempotronSafetensors.Load(Build("{\"model.summation_layer.weight\":{\"dtype\":\"BF16\",\"shape\":[1,2],\"data_offsets\":[0,4]}}", bf16),
            new TempotronFileOverrides { T = 3 });
        Assert.That(Weights(m3), Is.EqualTo(new[] { 1f, -3f }));
    }

    private static readonly (string Name, Func<byte[]> File, string Expect)[] _hostileCases =
    [
        ("empty", () => [], "header length"),
        ("length beyond file", () => { var f = Build("{}", []); BinaryPrimitives.WriteUInt64LittleEndian(f, 1000); return f; }, "1000-byte header"),
        ("absurd length", () => { var f = Build("{}", []); BinaryPrimitives.WriteUInt64LittleEndian(f, ulong.MaxValue); return f; }, "header"),
        ("invalid JSON", () => Build("{\"a\":", []), "JSON"),
        ("invalid UTF-8", () => { var f = Build("{\"xx\":{}}", []); f[10] = 0xff; return f; }, "JSON"),
        ("trailing garbage", () => Build("{} x", []), "JSON"),
        ("not an object", () => Build("[1,2]", []), "expected StartObject"),
        ("no weight", () => Build("{}", []), "no tensor"),
        ("missing field", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1]}}", F32(1)), "lacks data_offsets"),
        ("extra field", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4],\"x\":1}}", F32(1)), "unexpected field"),
        ("unknown dtype", () => Build("{\"fc.weight\":{\"dtype\":\"F8\",\"shape\":[1,1],\"data_offsets\":[0,1]}}", [0]), "unknown dtype"),
        ("integer dtype", () => Build("{\"fc.weight\":{\"dtype\":\"I32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", F32(1)), "must be F32"),
        ("shape vs bytes", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,4]}}", F32(1)), "data bytes"),
        ("offsets beyond", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,8]}}", F32(1)), "beyond"),
        ("end before begin", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[4,0]}}", F32(1)), "end before begin"),
        ("overlap", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", F32(1)), "overlaps"),
        ("gap", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[4,8]}}", F32(1, 2)), "gap"),
        ("trailing bytes", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", F32(1, 2)), "after its last tensor"),
        ("duplicate key", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]},\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[4,8]}}", F32(1, 2)), "twice"),
        ("both keys", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]},\"model.summation_layer.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[4,8]}}", F32(1, 2)), "ambiguous"),
        ("rank 1", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", F32(1, 2)), "expected [out, in]"),
        ("negative shape", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[-1,1],\"data_offsets\":[0,4]}}", F32(1)), "non-negative"),
        ("huge shape", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296],\"data_offsets\":[0,4]}}", F32(1)), "too large"),
        ("large shape", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[65536,65536],\"data_offsets\":[0,4]}}", F32(1)), "data bytes"),
        ("NaN weight", () => Build("{\"__metadata__\":{\"T\":\"3\"},\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", F32(float.NaN)), "non-finite"),
        ("metadata disagrees", () => Build("{\"__metadata__\":{\"T\":\"3\",\"in_features\":\"5\"},\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", F32(1)), "in_features = 5"),
        ("metadata not a string", () => Build("{\"__metadata__\":{\"T\":3},\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", F32(1)), "expected String"),
        ("no T", () => Build("{\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", F32(1)), "\"T\""),
        ("bad T", () => Build("{\"__metadata__\":{\"T\":\"0\"},\"fc.weight\":{\"dtype\":\"F32\",\"shape\":[1,1],\"data_offsets\":[0,4]}}", F32(1)), "invalid Tempotron parameters"),
    ];

    private static IEnumerable<TestCaseData> Hostile() => _hostileCases.Select(c => new TestCaseData(c.File(), c.Expect).SetName($"HostileInput_{c.Name.Replace(' ', '_')}"));

    [TestCaseSource(nameof(Hostile))]
    public void HostileInput_ThrowsInvalidDataException_SayingWhat(byte[] file, string expect)
    {
        var ex = Assert.Throws<InvalidDataException>(() => TempotronSafetensors.Load(file));
        Assert.That(ex!.Message, Does.Contain(expect));
    }

    [Test]
    public void LoadInto_WrongShape_LeavesTheModelUntouched()
    {
        var model = new Tempotron(3, 2, 5, seed: 1);
        var before = Weights(model);
        var other = TempotronSafetensors.ToBytes(new Tempotron(2, 3, 5, seed: 2));
        var ex = Assert.Throws<InvalidDataException>(() => TempotronSafetensors.LoadInto(model, other));
        Assert.That(ex!.Message, Does.Contain("[3, 2]").And.Contain("[2, 3]"));
        Assert.That(Weights(model), Is.EqualTo(before));
    }

    /// <summary>10,000 seeded mutations of a valid file: only InvalidDataException escapes, and a failed load changes nothing.</summary>
    [Test]
    public void Fuzz_MutatedFiles_OnlyRaiseInvalidDataException_AndNeverChangeTheModel()
    {
        var source = new Tempotron(4, 3, 8, seed: 5);
        var valid = TempotronSafetensors.ToBytes(source);
        var target = new Tempotron(4, 3, 8, seed: 6);
        var original = Weights(target);
        var rng = new Random(2026);
        int loaded = 0, rejected = 0;
        for (var n = 0; n < 10_000; n++)
        {
            var file = (byte[])valid.Clone();
            switch (rng.Next(4))
            {
                case 0:
                    for (var flips = rng.Next(1, 4); flips > 0; flips--)
                    {
                        var bit = rng.Next(file.Length * 8);
                        file[bit / 8] ^= (byte)(1 << (bit % 8));
                    }

                    break;
                case 1:
                    file = file[..rng.Next(file.Length)];
                    break;
                case 2:
                    BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)(long)(BinaryPrimitives.ReadUInt64LittleEndian(file) + (ulong)rng.Next(-16, 17)));
                    break;
                default:
                    var at = rng.Next(8, file.Length);
                    file[at] = (byte)"{}[]\",:0123456789-eE. \"ab"[rng.Next(25)];
                    break;
            }

            try
            {
                TempotronSafetensors.LoadInto(target, file);
                loaded++;

                // An accepted file is still a [3, 4] F32 tensor at the end of the file: the weights are its bytes.
                var tail = file[^(12 * 4)..];
                var expected = Enumerable.Range(0, 12).Select(k => BinaryPrimitives.ReadSingleLittleEndian(tail.AsSpan(k * 4))).ToArray();
                Assert.That(Weights(target), Is.EqualTo(expected), $"mutation {n} loaded other weights than its bytes hold");
                target.SetWeights(original);
            }
            catch (InvalidDataException)
            {
                rejected++;
                Assert.That(Weights(target), Is.EqualTo(original), $"mutation {n} changed the model");
            }
        }

        Assert.That(rejected, Is.GreaterThan(5000), "most mutations break the file");
        Assert.That(loaded, Is.GreaterThan(100), "some mutations (weight bits, header padding) leave a valid file, which must load");
    }
}
