using System.Buffers.Binary;
using System.IO.Compression;
using TimingBased.IO;

namespace TimingBased.Tests.IO;

public class IdxFileTests
{
    private static byte[] Images(int count, int rows, int cols, int extra = 0)
    {
        var data = new byte[16 + (count * rows * cols) + extra];
        BinaryPrimitives.WriteInt32BigEndian(data, 0x803);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(4), count);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(8), rows);
        BinaryPrimitives.WriteInt32BigEndian(data.AsSpan(12), cols);
        for (var k = 16; k < data.Length; k++)
        {
            data[k] = (byte)k;
        }

        return data;
    }

    internal static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gz.Write(data);
        }

        return output.ToArray();
    }

    [Test]
    public void ReadsPlainAndGzip()
    {
        var raw = Images(3, 2, 4);
        foreach (var bytes in new[] { raw, Gzip(raw) })
        {
            var img = IdxFile.ReadImages(new MemoryStream(bytes));
            Assert.That((img.Count, img.Rows, img.Columns), Is.EqualTo((3, 2, 4)));
            Assert.That(img.Pixels, Is.EqualTo(raw.AsSpan(16).ToArray()));
        }

        var labels = new byte[] { 0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 9 };
        Assert.That(IdxFile.ReadLabels(new MemoryStream(Gzip(labels))), Is.EqualTo(new byte[] { 7, 2, 9 }));
    }

    [Test]
    public void ShippedExampleData_IsWellFormed()
    {
        var dir = Path.Combine(TestContext.CurrentContext.TestDirectory, "../../../../docs/examples/data");
        var train = IdxFile.ReadImages(Path.Combine(dir, "train-images-idx3-ubyte.gz"));
        var trainLabels = IdxFile.ReadLabels(Path.Combine(dir, "train-labels-idx1-ubyte.gz"));
        var test = IdxFile.ReadImages(Path.Combine(dir, "t10k-images-idx3-ubyte.gz"));
        var testLabels = IdxFile.ReadLabels(Path.Combine(dir, "t10k-labels-idx1-ubyte.gz"));
        Assert.That((train.Rows, train.Columns), Is.EqualTo((28, 28)));
        Assert.That(train.Count, Is.EqualTo(trainLabels.Length));
        Assert.That(test.Count, Is.EqualTo(testLabels.Length));
        Assert.That(train.Count + test.Count, Is.EqualTo(10000));
        Assert.That(trainLabels.Max(), Is.EqualTo(9));
    }

    [Test]
    public void MalformedInput_ThrowsInvalidDataException_SayingWhat()
    {
        var raw = Images(2, 2, 2);
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(raw[..10])))!.Message, Does.Contain("header"));
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(raw[..^1])))!.Message, Does.Contain("7 data bytes").And.Contain("say 8"));
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(Images(2, 2, 2, extra: 1))))!.Message, Does.Contain("9 data bytes"));
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxFile.ReadLabels(new MemoryStream(raw)))!.Message, Does.Contain("magic"));
        var negative = Images(1, 1, 1);
        BinaryPrimitives.WriteInt32BigEndian(negative.AsSpan(8), -5);
        Assert.That(Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(negative)))!.Message, Does.Contain("negative"));
        var gz = Gzip(raw);
        Assert.Throws<InvalidDataException>(() => IdxFile.ReadImages(new MemoryStream(gz[..(gz.Length / 2)])));
    }
}
