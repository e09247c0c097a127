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
        var data = Read(stream, ImagesMagic, 3, name);
        var count = Dimension(data, 0, name);
        var rows = Dimension(data, 1, name);
        var columns = Dimension(data, 2, name);
        var pixels = Payload(data, 16, PayloadLength(data, 3, name), name);
        return new IdxImages(pixels, count, rows, columns);
    }

    /// <summary>Reads labels from a stream (plain or gzip).</summary>
    /// <param name="stream">The data.</param>
    /// <param name="name">A name for messages.</param>
    /// <returns>The labels.</returns>
    /// <exception cref="InvalidDataException">The data is not a well-formed IDX label file.</exception>
    public static byte[] ReadLabels(Stream stream, string name = "stream")
    {
        var data = Read(stream, LabelsMagic, 1, name);
        return Payload(data, 8, PayloadLength(data, 1, name), name);
    }

    /// <summary>
    /// The file's bytes: a plain stream as it is (its size bounds the memory), a gzip stream inflated only as far as its
    /// IDX header says: the header is read and checked first, then exactly the payload it declares is allocated and
    /// read, and a stream that inflates to more or fewer bytes is refused. So no allocation exceeds the declared size.
    /// </summary>
    private static byte[] Read(Stream stream, int magic, int dimensions, string name)
    {
        ArgumentNullException.ThrowIfNull(stream);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var raw = buffer.ToArray();
        if (raw.Length < 2 || raw[0] != 0x1f || raw[1] != 0x8b)
        {
            Header(raw, magic, dimensions, name);
            return raw;
        }

        using var gz = new GZipStream(new MemoryStream(raw), CompressionMode.Decompress);
        var headerLength = 4 + (4 * dimensions);
        var header = new byte[headerLength];
        var got = Inflate(gz, header, name);
        Header(header.AsSpan(0, got).ToArray(), magic, dimensions, name);
        var data = new byte[headerLength + PayloadLength(header, dimensions, name)];
        header.CopyTo(data, 0);
        got = Inflate(gz, data.AsSpan(headerLength), name);
        if (got < data.Length - headerLength)
        {
            throw new InvalidDataException(Message(name, $"inflates to {got} data bytes after its header; its dimensions say {data.Length - headerLength}"));
        }

        if (Inflate(gz, stackalloc byte[1], name) > 0)
        {
            throw new InvalidDataException(Message(name, $"inflates to more than the {data.Length - headerLength} data bytes its dimensions say"));
        }

        CheckGzipTrailer(raw, data, name);
        return data;
    }

    /// <summary>Fills <paramref name="destination"/> from the gzip stream, or as much of it as the stream holds; returns the count.</summary>
    private static int Inflate(GZipStream gz, Span<byte> destination, string name)
    {
        try
        {
            return gz.ReadAtLeast(destination, destination.Length, throwOnEndOfStream: false);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(Message(name, $"is not valid gzip: {e.Message}"), e);
        }
    }

    /// <summary>The payload's length in bytes, the product of the header's dimensions; refused when it and the header would not fit one array.</summary>
    private static long PayloadLength(byte[] header, int dimensions, string name)
    {
        long length = 1;
        for (var d = 0; d < dimensions; d++)
        {
            length *= Dimension(header, d, name); // each factor < 2^31 and the product kept <= Array.MaxLength: no overflow
            if (length > Array.MaxLength - 16)
            {
                throw new InvalidDataException(Message(name,
                    $"declares {DimensionsText(header, dimensions, name)}, more than the {Array.MaxLength} bytes an array can hold"));
            }
        }

        return length;
    }

    private static string DimensionsText(byte[] header, int dimensions, string name) =>
        string.Join(" x ", Enumerable.Range(0, dimensions).Select(d => Dimension(header, d, name).ToString(CultureInfo.InvariantCulture)));

    /// <summary>
    /// Checks the 8-byte gzip trailer (RFC 1952: CRC-32 and length mod 2^32 of the data, little-endian), which
    /// <see cref="GZipStream"/> does not require: a file cut inside its trailer would otherwise read without error.
    /// Files of one gzip member (what gzip writes) are supported.
    /// </summary>
    private static void CheckGzipTrailer(byte[] raw, byte[] data, string name)
    {
        if (raw.Length < 18)
        {
            throw new InvalidDataException(Message(name, $"is a {raw.Length}-byte gzip stream, shorter than the 18 bytes of header and trailer"));
        }

        var trailer = raw.AsSpan(raw.Length - 8);
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(trailer);
        var size = BinaryPrimitives.ReadUInt32LittleEndian(trailer[4..]);
        if (size != (uint)data.Length || crc != Crc32(data))
        {
            throw new InvalidDataException(Message(name,
                $"is a truncated or corrupt gzip stream: its trailer says {size} bytes with CRC-32 0x{crc:X8}, the data has {(uint)data.Length} bytes with CRC-32 0x{Crc32(data):X8}"));
        }
    }

    private static readonly uint[] _crcTable = BuildCrcTable();

    private static uint[] BuildCrcTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            var c = n;
            for (var k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }

    /// <summary>The CRC-32 of gzip and zlib (polynomial 0xEDB88320, reflected, inverted in and out).</summary>
    internal static uint Crc32(ReadOnlySpan<byte> data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc = _crcTable[(int)((crc ^ b) & 0xFF)] ^ (crc >> 8);
        }

        return ~crc;
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
