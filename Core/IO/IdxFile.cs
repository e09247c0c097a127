using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;

namespace TimingBased.IO;

/// <summary>An image set read from an IDX file: <c>Count</c> images of <c>Rows x Columns</c> unsigned bytes, row-major.</summary>
/// <param name="Pixels">The pixels, shape <c>[count, rows, columns]</c>.</param>
/// <param name="Count">The number of images.</param>
/// <param name="Rows">The image height.</param>
/// <param name="Columns">The image width.</param>
public sealed record IdxImages(byte[] Pixels, int Count, int Rows, int Columns);

/// <summary>
/// Reads the IDX format of the MNIST database (LeCun et al.): a big-endian magic number <c>0x00000803</c> (images,
/// <c>[count, rows, columns]</c> of <c>uint8</c>) or <c>0x00000801</c> (labels, <c>[count]</c> of <c>uint8</c>), the
/// dimensions as big-endian <c>int32</c>, then the data. Plain and gzip-compressed files are both accepted.
/// </summary>
/// <remarks>Malformed or truncated input raises <see cref="InvalidDataException"/> saying what is wrong. Thread-safe (stateless).</remarks>
public static class IdxFile
{
    private const int ImagesMagic = 0x00000803;
    private const int LabelsMagic = 0x00000801;

    /// <summary>Reads an image file (plain or <c>.gz</c>).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The images.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX image file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static IdxImages ReadImages(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadImages(stream, path);
    }

    /// <summary>Reads a label file (plain or <c>.gz</c>).</summary>
    /// <param name="path">The file.</param>
    /// <returns>The labels, one byte each.</returns>
    /// <exception cref="InvalidDataException">The file is not a well-formed IDX label file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static byte[] ReadLabels(string path)
    {
        using var stream = File.OpenRead(path);
        return ReadLabels(stream, path);
    }

    /// <summary>Reads an image set from a stream (plain or gzip).</summary>
    /// <param name="stream">The data.</param>
    /// <param name="name">A name for messages.</param>
    /// <returns>The images.</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX image file.</exception>
    public static IdxImages ReadImages(Stream stream, string name = "stream")
    {
        var data = Decompress(stream, name);
        var count = Header(data, ImagesMagic, 3, name);
        var rows = Dimension(data, 1, name);
        var columns = Dimension(data, 2, name);
        var length = (long)count * rows * columns;
        var pixels = Payload(data, 16, length, name);
        return new IdxImages(pixels, count, rows, columns);
    }

    /// <summary>Reads labels from a stream (plain or gzip).</summary>
    /// <param name="stream">The data.</param>
    /// <param name="name">A name for messages.</param>
    /// <returns>The labels.</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX label file.</exception>
    public static byte[] ReadLabels(Stream stream, string name = "stream")
    {
        var data = Decompress(stream, name);
        var count = Header(data, LabelsMagic, 1, name);
        return Payload(data, 8, count, name);
    }

    private static byte[] Decompress(Stream stream, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var raw = buffer.ToArray();
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
        {
            return raw;
        }

        try
        {
            using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
            using var output = new MemoryStream();
            gz.CopyTo(output);
            return output.ToArray();
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(Message(name, $"is not valid gzip: {e.Message}"), e);
        }
        catch (EndOfStreamException e)
        {
            throw new InvalidDataException(Message(name, "is a truncated gzip stream"), e);
        }
    }

    private static int Header(byte[] data, int magic, int dimensions, string name)
    {
        if (data.Length < 4 + (4 * dimensions))
        {
            throw new InvalidDataException(Message(name, $"is {data.Length} bytes long, shorter than the {4 + (4 * dimensions)}-byte IDX header"));
        }

        var found = BinaryPrimitives.ReadInt32BigEndian(data);
        if (found != magic)
        {
            throw new InvalidDataException(Message(name, $"has magic number 0x{found:X8}; expected 0x{magic:X8} ({(magic == ImagesMagic ? "images" : "labels")})"));
        }

        return Dimension(data, 0, name);
    }

    private static int Dimension(byte[] data, int index, string name)
    {
        var value = BinaryPrimitives.ReadInt32BigEndian(data.AsSpan(4 + (4 * index)));
        if (value < 0)
        {
            throw new InvalidDataException(Message(name, $"has a negative dimension {index}: {value}"));
        }

        return value;
    }

    private static byte[] Payload(byte[] data, int offset, long length, string name)
    {
        if (data.Length - offset != length)
        {
            throw new InvalidDataException(Message(name,
                $"has {data.Length - offset} data bytes after its header; its dimensions say {length}"));
        }

        return data.AsSpan(offset).ToArray();
    }

    private static string Message(string name, string what) => string.Create(CultureInfo.InvariantCulture, $"IDX file '{name}' {what}.");
}
