using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TimingBased.Neurons;
using TextEncoding = System.Text.Encoding;

namespace TimingBased.IO;

// Reading a file: the header's JSON, the tensors' layout against the format's rules, the weights' conversion.
public static partial class TempotronSafetensors
{
    /// <summary>A checked file: its metadata, and where its weight tensor's values are (read with <see cref="Values"/>).</summary>
    private sealed class ParsedFile
    {
        public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
        public Entry Weight { get; set; }
        public int BodyStart { get; set; }
        public int Out { get; set; }
        public int In { get; set; }

        public WeightValues Values(ReadOnlySpan<byte> data) =>
            new(data.Slice(BodyStart + (int)Weight.Begin, (int)(Weight.End - Weight.Begin)), Weight, In);
    }

    private readonly record struct Entry(string Name, string DType, long[] Shape, long Begin, long End);

    /// <summary>The weight tensor's values, <c>[out, in]</c> row-major, each read exactly as a double (F32, F64, F16, BF16).</summary>
    private readonly ref struct WeightValues
    {
        private readonly ReadOnlySpan<byte> _bytes;
        private readonly int _width;

        public WeightValues(ReadOnlySpan<byte> bytes, Entry entry, int inFeatures)
        {
            _bytes = bytes;
            Entry = entry;
            InFeatures = inFeatures;
            _width = entry.DType switch
            {
                "F64" => 8,
                "F32" => 4,
                "F16" => 2,
                "BF16" => -2,
                _ => throw Invalid($"tensor \"{entry.Name}\" has dtype {entry.DType}; weights must be F32, F64, F16 or BF16"),
            };
        }

        public Entry Entry { get; }

        public int InFeatures { get; }

        public int Count => _bytes.Length / Math.Abs(_width);

        public double this[int k] => _width switch
        {
            8 => BinaryPrimitives.ReadDoubleLittleEndian(_bytes[(k * 8)..]),
            4 => BinaryPrimitives.ReadSingleLittleEndian(_bytes[(k * 4)..]),
            2 => (double)BinaryPrimitives.ReadHalfLittleEndian(_bytes[(k * 2)..]),
            _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(_bytes[(k * 2)..]) << 16),
        };

        /// <summary>Throws naming the <c>[out, in]</c> coordinate of element <paramref name="k"/>, whose value (as the model's precision) is not finite.</summary>
        public InvalidDataException NotFinite(int k, double value, string precision) =>
            Invalid($"tensor \"{Entry.Name}\" holds a non-finite weight {value} at [{k / InFeatures}, {k % InFeatures}] (as {precision})");
    }

    /// <summary>Checks a whole file against the format's rules and finds its weight tensor, <paramref name="key"/> or <paramref name="legacyKey"/>.</summary>
    private static ParsedFile Parse(ReadOnlySpan<byte> data, string key, string? legacyKey)
    {
        if (data.Length < 8)
        {
            throw Invalid($"is {data.Length} bytes long; the 8-byte header length is missing");
        }

        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(data);
        if (headerLength > (ulong)(data.Length - 8) || headerLength > MaxHeaderLength)
        {
            throw Invalid($"declares a {headerLength}-byte header, but {data.Length - 8} bytes follow the length (at most {MaxHeaderLength} accepted)");
        }

        if (headerLength < 2)
        {
            throw Invalid($"declares a {headerLength}-byte header; a JSON object needs at least 2");
        }

        var header = data.Slice(8, (int)headerLength);
        var file = new ParsedFile { BodyStart = 8 + (int)headerLength };
        var entries = ParseHeader(header, file.Metadata);
        CheckLayout(entries, data.Length - file.BodyStart);

        Entry? weight = null;
        foreach (var e in entries)
        {
            if (e.Name == key || e.Name == legacyKey)
            {
                if (weight is not null)
                {
                    throw Invalid($"holds both \"{key}\" and \"{legacyKey}\"; which weights to load is ambiguous");
                }

                weight = e;
            }
        }

        if (weight is not Entry w)
        {
            throw Invalid(legacyKey is null ? $"has no tensor \"{key}\"" : $"has no tensor \"{key}\" (or \"{legacyKey}\")");
        }

        if (w.Shape.Length != 2 || w.Shape[0] < 1 || w.Shape[1] < 1)
        {
            throw Invalid($"tensor \"{w.Name}\" has shape [{string.Join(", ", w.Shape)}]; expected [out, in] with both >= 1");
        }

        file.Weight = w;
        file.Out = (int)w.Shape[0];
        file.In = (int)w.Shape[1];
        _ = file.Values(data); // refuses a dtype that is not a weight type before anyone reads
        return file;
    }

    private static List<Entry> ParseHeader(ReadOnlySpan<byte> header, Dictionary<string, string> metadata)
    {
        var entries = new List<Entry>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            var reader = new Utf8JsonReader(header, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Disallow, MaxDepth = 8 });
            Expect(ref reader, JsonTokenType.StartObject, "the header");
            while (Next(ref reader) != JsonTokenType.EndObject)
            {
                var name = reader.GetString()!;
                if (!names.Add(name))
                {
                    throw Invalid($"has the key \"{name}\" twice in its header");
                }

                if (name == "__metadata__")
                {
                    ParseMetadata(ref reader, metadata);
                }
                else
                {
                    entries.Add(ParseEntry(ref reader, name));
                }
            }

            if (reader.Read())
            {
                throw Invalid("has data after the header's JSON object (other than space padding)");
            }
        }
        catch (JsonException e)
        {
            throw Invalid($"has a header that is not valid JSON: {e.Message}", e);
        }
        catch (ArgumentException e)
        {
            throw Invalid($"has a header that is not valid UTF-8 JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw Invalid($"has a header of the wrong JSON shape: {e.Message}", e);
        }

        return entries;
    }

    private static void ParseMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        Expect(ref reader, JsonTokenType.StartObject, "__metadata__");
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            var key = reader.GetString()!;
            Expect(ref reader, JsonTokenType.String, $"__metadata__ value \"{key}\"");
            if (!metadata.TryAdd(key, reader.GetString()!))
            {
                throw Invalid($"has the __metadata__ key \"{key}\" twice");
            }
        }
    }

    private static Entry ParseEntry(ref Utf8JsonReader reader, string name)
    {
        Expect(ref reader, JsonTokenType.StartObject, $"tensor \"{name}\"");
        string? dtype = null;
        long[]? shape = null;
        long[]? offsets = null;
        while (Next(ref reader) != JsonTokenType.EndObject)
        {
            var field = reader.GetString();
            switch (field)
            {
                case "dtype" when dtype is null:
                    Expect(ref reader, JsonTokenType.String, $"tensor \"{name}\" dtype");
                    dtype = reader.GetString()!;
                    break;
                case "shape" when shape is null:
                    shape = ReadIntegers(ref reader, $"tensor \"{name}\" shape", 8);
                    break;
                case "data_offsets" when offsets is null:
                    offsets = ReadIntegers(ref reader, $"tensor \"{name}\" data_offsets", 2);
                    if (offsets.Length != 2)
                    {
                        throw Invalid($"tensor \"{name}\" has {offsets.Length} data_offsets; expected [begin, end]");
                    }

                    break;
                case "dtype" or "shape" or "data_offsets":
                    throw Invalid($"tensor \"{name}\" has the field \"{field}\" twice");
                default:
                    throw Invalid($"tensor \"{name}\" has an unexpected field \"{field}\"");
            }
        }

        if (dtype is null || shape is null || offsets is null)
        {
            throw Invalid($"tensor \"{name}\" lacks {(dtype is null ? "dtype" : shape is null ? "shape" : "data_offsets")}");
        }

        return new Entry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(ref Utf8JsonReader reader, string what, int max)
    {
        Expect(ref reader, JsonTokenType.StartArray, what);
        Span<long> values = stackalloc long[max];
        var count = 0;
        while (Next(ref reader) != JsonTokenType.EndArray)
        {
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out var v) || v < 0)
            {
                throw Invalid($"{what} holds something other than a non-negative integer");
            }

            if (count == max)
            {
                throw Invalid($"{what} has more than {max} values");
            }

            values[count++] = v;
        }

        return values[..count].ToArray();
    }

    private static void CheckLayout(List<Entry> entries, int bodyLength)
    {
        var sorted = entries.ToArray();
        // Sorted by (begin, end) as the reference implementation does, so a zero-size tensor sorts before the
        // tensor that starts at the same offset whatever order the header lists them in.
        Array.Sort(sorted, static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expectedBegin = 0;
        foreach (var e in sorted)
        {
            // Bits per element of every dtype in the safetensors format; only the weight tensor's values are read.
            var bits = e.DType switch
            {
                "F64" or "I64" or "U64" or "C64" => 64,
                "F32" or "I32" or "U32" => 32,
                "F16" or "BF16" or "I16" or "U16" => 16,
                "I8" or "U8" or "BOOL" or "F8_E4M3" or "F8_E5M2" or "F8_E8M0" => 8,
                "F6_E2M3" or "F6_E3M2" => 6,
                "F4" => 4,
                _ => throw Invalid($"tensor \"{e.Name}\" has unknown dtype \"{e.DType}\""),
            };
            if (e.End < e.Begin)
            {
                throw Invalid($"tensor \"{e.Name}\" has data_offsets [{e.Begin}, {e.End}] with end before begin");
            }

            if (e.End > bodyLength)
            {
                throw Invalid($"tensor \"{e.Name}\" has data_offsets [{e.Begin}, {e.End}] beyond the {bodyLength} data bytes");
            }

            if (e.Begin != expectedBegin)
            {
                throw Invalid(e.Begin < expectedBegin
                    ? $"tensor \"{e.Name}\" overlaps another tensor at byte {e.Begin}"
                    : $"has a gap in its data before tensor \"{e.Name}\" (bytes {expectedBegin} to {e.Begin})");
            }

            long elements = 1;
            foreach (var d in e.Shape)
            {
                elements = d == 0 ? 0 : elements > long.MaxValue / d ? throw Invalid($"tensor \"{e.Name}\" has a shape too large to count") : elements * d;
            }

            if (elements > long.MaxValue / bits || (elements * bits) % 8 != 0 || elements * bits / 8 != e.End - e.Begin)
            {
                throw Invalid($"tensor \"{e.Name}\" has shape [{string.Join(", ", e.Shape)}] of {e.DType} ({elements} elements) but {e.End - e.Begin} data bytes");
            }

            expectedBegin = e.End;
        }

        if (expectedBegin != bodyLength)
        {
            throw Invalid($"has {bodyLength - expectedBegin} data bytes after its last tensor");
        }
    }

    /// <summary>The weights as float32, <c>[out, in]</c>; a value that is not finite as float32 is refused.</summary>
    private static float[] ReadFloats(ParsedFile file, ReadOnlySpan<byte> data)
    {
        var values = file.Values(data);
        var floats = new float[values.Count];
        for (var k = 0; k < floats.Length; k++)
        {
            var v = (float)values[k];
            floats[k] = float.IsFinite(v) ? v : throw values.NotFinite(k, v, "float32");
        }

        return floats;
    }

    /// <summary>Writes the weights as doubles, <c>[out, in]</c>, into <paramref name="destination"/>; a value that is not finite is refused.</summary>
    private static void ReadDoubles(ParsedFile file, ReadOnlySpan<byte> data, Span<double> destination)
    {
        var values = file.Values(data);
        for (var k = 0; k < values.Count; k++)
        {
            var v = values[k];
            destination[k] = double.IsFinite(v) ? v : throw values.NotFinite(k, v, "float64");
        }
    }

    private static void CheckMetadataShape(ParsedFile file, string key, int actual)
    {
        if (MetadataInt(file, key) is int declared && declared != actual)
        {
            throw Invalid($"says {key} = {declared} in __metadata__, but the weights have {actual}");
        }
    }

    private static int? MetadataInt(ParsedFile file, string key)
    {
        if (!file.Metadata.TryGetValue(key, out var text))
        {
            return null;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Invalid($"has __metadata__ \"{key}\" = \"{text}\", not an integer");
    }

    private static double? MetadataDouble(ParsedFile file, string key)
    {
        if (!file.Metadata.TryGetValue(key, out var text))
        {
            return null;
        }

        return double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw Invalid($"has __metadata__ \"{key}\" = \"{text}\", not a number");
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader) =>
        reader.Read() ? reader.TokenType : throw Invalid("has a header that ends early");

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        if (Next(ref reader) != type)
        {
            throw Invalid($"has {what} as {reader.TokenType}; expected {type}");
        }
    }

    private static InvalidDataException Invalid(string what, Exception? inner = null) =>
        new($"Safetensors file {what}.", inner);
}
