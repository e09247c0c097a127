using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using TimingBased.Neurons;
using TextEncoding = System.Text.Encoding;

namespace TimingBased.IO;

/// <summary>Values that override a model file's metadata when a <see cref="Tempotron"/> is constructed from it.</summary>
/// <remarks>Each <see langword="null"/> property is taken from the file's <c>__metadata__</c>, or from the SpikingJelly default.</remarks>
public readonly record struct TempotronFileOverrides
{
    /// <summary>Gets the number of time steps <c>T</c> (required when the file has no <c>T</c> metadata).</summary>
    public int? T { get; init; }

    /// <summary>Gets the membrane time constant.</summary>
    public double? Tau { get; init; }

    /// <summary>Gets the synaptic time constant.</summary>
    public double? TauS { get; init; }

    /// <summary>Gets the firing threshold.</summary>
    public double? VThreshold { get; init; }
}

/// <summary>
/// Reads and writes Tempotron weights as safetensors, the format <c>safetensors.torch.save_file</c> writes, so
/// weights move between SpikingJelly and this library.
/// </summary>
/// <remarks>
/// <para>
/// Layout: an 8-byte little-endian header length <c>N</c>, <c>N</c> bytes of UTF-8 JSON
/// <c>{"__metadata__": {"k": "v"}, "&lt;name&gt;": {"dtype": "F32", "shape": [out, in], "data_offsets": [begin, end]}}</c>,
/// then the little-endian tensor bytes (offsets relative to the end of the header). Saved files use the key
/// <c>model.summation_layer.weight</c> (SpikingJelly's <c>state_dict</c> key), dtype <c>F32</c>, and metadata
/// <c>T</c>, <c>tau</c>, <c>tau_s</c>, <c>v_threshold</c>, <c>in_features</c>, <c>out_features</c> as strings;
/// the header is padded with spaces to a multiple of 8 bytes, as the reference implementation does.
/// </para>
/// <para>
/// Loading accepts that key or SpikingJelly's older <c>fc.weight</c>, dtypes <c>F32</c>, <c>F64</c>, <c>F16</c>
/// and <c>BF16</c> (converted to float32), and ignores other tensors after checking them. The input is treated as
/// hostile: every inconsistency raises <see cref="InvalidDataException"/> saying what and where, nothing is read
/// past the input, and allocations are bounded by the input's size (twice it for a 16-bit tensor widened to float32).
/// </para>
/// <para>Thread safety: the methods are stateless; loading into a model must not race with its use.</para>
/// </remarks>
public static class TempotronSafetensors
{
    /// <summary>The tensor key SpikingJelly's <c>state_dict</c> uses for the weights.</summary>
    public const string WeightKey = "model.summation_layer.weight";

    /// <summary>The key older SpikingJelly versions used.</summary>
    public const string LegacyWeightKey = "fc.weight";

    /// <summary>The largest header accepted, in bytes (100 MB), whatever the input's size.</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Serialises the model's weights and constants.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The file's bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public static byte[] ToBytes(Tempotron model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var inv = CultureInfo.InvariantCulture;
        var count = model.WeightCount;
        var header = new StringBuilder();
        header.Append("{\"__metadata__\":{");
        header.Append(inv, $"\"T\":\"{model.T}\",");
        header.Append(inv, $"\"in_features\":\"{model.InFeatures}\",");
        header.Append(inv, $"\"out_features\":\"{model.OutFeatures}\",");
        header.Append(inv, $"\"tau\":\"{model.Tau:R}\",");
        header.Append(inv, $"\"tau_s\":\"{model.TauS:R}\",");
        header.Append(inv, $"\"v_threshold\":\"{model.VThreshold:R}\"}},");
        header.Append(inv, $"\"{WeightKey}\":{{\"dtype\":\"F32\",\"shape\":[{model.OutFeatures},{model.InFeatures}],\"data_offsets\":[0,{(long)count * 4}]}}}}");
        while (TextEncoding.UTF8.GetByteCount(header.ToString()) % 8 != 0)
        {
            header.Append(' ');
        }

        var headerBytes = TextEncoding.UTF8.GetBytes(header.ToString());
        var file = new byte[8 + headerBytes.Length + ((long)count * 4)];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)headerBytes.Length);
        headerBytes.CopyTo(file, 8);
        var weights = new float[count];
        model.CopyWeightsTo(weights);
        var data = file.AsSpan(8 + headerBytes.Length);
        for (var k = 0; k < count; k++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data[(k * 4)..], weights[k]);
        }

        return file;
    }

    /// <summary>Writes the model to a stream.</summary>
    /// <param name="model">The model.</param>
    /// <param name="destination">The stream.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    public static void Save(Tempotron model, Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        destination.Write(ToBytes(model));
    }

    /// <summary>Writes the model to a file, replacing it.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(Tempotron model, string path) => File.WriteAllBytes(path, ToBytes(model));

    /// <summary>Constructs a Tempotron from a file's bytes.</summary>
    /// <param name="data">The file's bytes.</param>
    /// <param name="overrides">Values that take precedence over the file's metadata.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">The data is not a valid Tempotron safetensors file, or lacks <c>T</c> with no override.</exception>
    public static Tempotron Load(ReadOnlySpan<byte> data, TempotronFileOverrides overrides = default)
    {
        var file = Parse(data);
        var t = overrides.T ?? MetadataInt(file, "T") ??
            throw Invalid("has no \"T\" in __metadata__; pass TempotronFileOverrides.T");
        var tau = overrides.Tau ?? MetadataDouble(file, "tau") ?? Tempotron.DefaultTau;
        var tauS = overrides.TauS ?? MetadataDouble(file, "tau_s") ?? Tempotron.DefaultTauS;
        var threshold = overrides.VThreshold ?? MetadataDouble(file, "v_threshold") ?? Tempotron.DefaultVThreshold;
        try
        {
            return new Tempotron(file.In, file.Out, t, file.Weights, tau, tauS, threshold);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Safetensors file gives invalid Tempotron parameters: {e.Message}", e);
        }
    }

    /// <summary>Constructs a Tempotron from a stream.</summary>
    /// <param name="source">The stream; read to its end.</param>
    /// <param name="overrides">Values that take precedence over the file's metadata.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">The data is not a valid Tempotron safetensors file.</exception>
    public static Tempotron Load(Stream source, TempotronFileOverrides overrides = default) => Load(ReadAll(source), overrides);

    /// <summary>Constructs a Tempotron from a file.</summary>
    /// <param name="path">The file.</param>
    /// <param name="overrides">Values that take precedence over the file's metadata.</param>
    /// <returns>The model.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid Tempotron safetensors file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Tempotron Load(string path, TempotronFileOverrides overrides = default) => Load(File.ReadAllBytes(path), overrides);

    /// <summary>Replaces an existing model's weights with a file's, after checking the shape.</summary>
    /// <param name="model">The model; unchanged if anything is wrong.</param>
    /// <param name="data">The file's bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is invalid or its shape is not <c>[out, in]</c> of the model.</exception>
    public static void LoadInto(Tempotron model, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(model);
        var file = Parse(data);
        if (file.Out != model.OutFeatures || file.In != model.InFeatures)
        {
            throw Invalid($"holds weights of shape [{file.Out}, {file.In}]; the model needs [{model.OutFeatures}, {model.InFeatures}]");
        }

        model.SetWeights(file.Weights);
    }

    /// <summary>Replaces an existing model's weights with a stream's.</summary>
    /// <param name="model">The model; unchanged if anything is wrong.</param>
    /// <param name="source">The stream; read to its end.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidDataException">The data is invalid or of the wrong shape.</exception>
    public static void LoadInto(Tempotron model, Stream source) => LoadInto(model, ReadAll(source));

    /// <summary>Replaces an existing model's weights with a file's.</summary>
    /// <param name="model">The model; unchanged if anything is wrong.</param>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="InvalidDataException">The file is invalid or of the wrong shape.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static void LoadInto(Tempotron model, string path) => LoadInto(model, File.ReadAllBytes(path));

    private static byte[] ReadAll(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var buffer = new MemoryStream();
        source.CopyTo(buffer);
        return buffer.ToArray();
    }

    private sealed class ParsedFile
    {
        public Dictionary<string, string> Metadata { get; } = new(StringComparer.Ordinal);
        public float[] Weights { get; set; } = [];
        public int Out { get; set; }
        public int In { get; set; }
    }

    private readonly record struct Entry(string Name, string DType, long[] Shape, long Begin, long End);

    private static ParsedFile Parse(ReadOnlySpan<byte> data)
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
        var body = data[(8 + (int)headerLength)..];
        var file = new ParsedFile();
        var entries = ParseHeader(header, file.Metadata);
        CheckLayout(entries, body.Length);

        Entry? weight = null;
        foreach (var e in entries)
        {
            if (e.Name is WeightKey or LegacyWeightKey)
            {
                if (weight is not null)
                {
                    throw Invalid($"holds both \"{WeightKey}\" and \"{LegacyWeightKey}\"; which weights to load is ambiguous");
                }

                weight = e;
            }
        }

        if (weight is not Entry w)
        {
            throw Invalid($"has no tensor \"{WeightKey}\" (or \"{LegacyWeightKey}\")");
        }

        if (w.Shape.Length != 2 || w.Shape[0] < 1 || w.Shape[1] < 1)
        {
            throw Invalid($"tensor \"{w.Name}\" has shape [{string.Join(", ", w.Shape)}]; expected [out, in] with both >= 1");
        }

        file.Out = (int)w.Shape[0];
        file.In = (int)w.Shape[1];
        CheckMetadataShape(file, "out_features", file.Out);
        CheckMetadataShape(file, "in_features", file.In);
        file.Weights = Convert(w, body.Slice((int)w.Begin, (int)(w.End - w.Begin)));
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

    private static float[] Convert(Entry e, ReadOnlySpan<byte> bytes)
    {
        var count = (int)(e.Shape[0] * e.Shape[1]);
        var values = new float[count];
        for (var k = 0; k < count; k++)
        {
            var v = e.DType switch
            {
                "F32" => BinaryPrimitives.ReadSingleLittleEndian(bytes[(k * 4)..]),
                "F64" => (float)BinaryPrimitives.ReadDoubleLittleEndian(bytes[(k * 8)..]),
                "F16" => (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(k * 2)..]),
                "BF16" => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(bytes[(k * 2)..]) << 16),
                _ => throw Invalid($"tensor \"{e.Name}\" has dtype {e.DType}; weights must be F32, F64, F16 or BF16"),
            };
            if (!float.IsFinite(v))
            {
                throw Invalid($"tensor \"{e.Name}\" holds a non-finite weight {v} at [{k / e.Shape[1]}, {k % e.Shape[1]}] (as float32)");
            }

            values[k] = v;
        }

        return values;
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
