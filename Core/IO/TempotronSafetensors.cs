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
public static partial class TempotronSafetensors
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
        List<(string, string)> metadata =
        [
            ("T", model.T.ToString(inv)),
            ("in_features", model.InFeatures.ToString(inv)),
            ("out_features", model.OutFeatures.ToString(inv)),
            ("tau", model.Tau.ToString("R", inv)),
            ("tau_s", model.TauS.ToString("R", inv)),
            ("v_threshold", model.VThreshold.ToString("R", inv)),
        ];
        var weights = new float[model.WeightCount];
        model.CopyWeightsTo(weights);
        var file = Assemble(metadata, WeightKey, "F32", model.OutFeatures, model.InFeatures, 4, out var dataStart);
        var data = file.AsSpan(dataStart);
        for (var k = 0; k < weights.Length; k++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data[(k * 4)..], weights[k]);
        }

        return file;
    }

    /// <summary>
    /// Lays out a one-tensor file: the header (metadata as strings, then the tensor's entry, padded with spaces to a
    /// multiple of 8 bytes) and room for <c>rows * columns</c> elements, which start at <paramref name="dataStart"/>.
    /// </summary>
    private static byte[] Assemble(List<(string Key, string Value)> metadata, string key, string dtype, int rows, int columns,
        int elementBytes, out int dataStart)
    {
        var inv = CultureInfo.InvariantCulture;
        var header = new StringBuilder();
        header.Append("{\"__metadata__\":{");
        header.AppendJoin(',', metadata.Select(m => $"\"{m.Key}\":\"{m.Value}\""));
        var bytes = (long)rows * columns * elementBytes;
        header.Append(inv, $"}},\"{key}\":{{\"dtype\":\"{dtype}\",\"shape\":[{rows},{columns}],\"data_offsets\":[0,{bytes}]}}}}");
        while (TextEncoding.UTF8.GetByteCount(header.ToString()) % 8 != 0)
        {
            header.Append(' ');
        }

        var headerBytes = TextEncoding.UTF8.GetBytes(header.ToString());
        var file = new byte[8 + headerBytes.Length + bytes];
        BinaryPrimitives.WriteUInt64LittleEndian(file, (ulong)headerBytes.Length);
        headerBytes.CopyTo(file, 8);
        dataStart = 8 + headerBytes.Length;
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
    /// <exception cref="ArgumentOutOfRangeException">A value of <paramref name="overrides"/> breaks the constructor's rule for it.</exception>
    public static Tempotron Load(ReadOnlySpan<byte> data, TempotronFileOverrides overrides = default)
    {
        var file = ParseGrid(data);
        var t = overrides.T ?? MetadataInt(file, "T") ??
            throw Invalid("has no \"T\" in __metadata__; pass TempotronFileOverrides.T");
        var tau = overrides.Tau ?? MetadataDouble(file, "tau") ?? Tempotron.DefaultTau;
        var tauS = overrides.TauS ?? MetadataDouble(file, "tau_s") ?? Tempotron.DefaultTauS;
        var threshold = overrides.VThreshold ?? MetadataDouble(file, "v_threshold") ?? Tempotron.DefaultVThreshold;
        Tempotron model;
        try
        {
            model = Tempotron.WithZeroWeights(file.In, file.Out, t, tau, tauS, threshold);
        }
        catch (ArgumentException e) when (CameFromOverrides(e.ParamName, overrides))
        {
            throw new ArgumentOutOfRangeException(nameof(overrides), $"An override is invalid: {e.Message}");
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Safetensors file gives invalid Tempotron parameters: {e.Message}", e);
        }

        // The file's values go straight into the new model's layout: the one copy of the weights a load makes.
        var values = file.Values(data);
        var parameters = model.Parameters;
        var stride = model.OutStride;
        for (var k = 0; k < values.Count; k++)
        {
            var v = (float)values[k];
            parameters[((k % file.In) * stride) + (k / file.In)] = float.IsFinite(v) ? v : throw values.NotFinite(k, v, "float32");
        }

        return model;
    }

    /// <summary>Checks a grid model's file: its weight tensor under either key, and its shape against any declared sizes.</summary>
    private static ParsedFile ParseGrid(ReadOnlySpan<byte> data)
    {
        var file = Parse(data, WeightKey, LegacyWeightKey);
        CheckMetadataShape(file, "out_features", file.Out);
        CheckMetadataShape(file, "in_features", file.In);
        return file;
    }

    /// <summary>Whether the constructor's complaint names a value the caller's overrides supplied (the argument is at fault, not the file).</summary>
    private static bool CameFromOverrides(string? parameter, TempotronFileOverrides overrides) => parameter switch
    {
        "t" => overrides.T is not null,
        "tau" => overrides.Tau is not null,
        "tauS" => overrides.TauS is not null,
        "vThreshold" => overrides.VThreshold is not null,
        _ => false,
    };

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

    /// <summary>
    /// Replaces an existing model's weights with a file's, after checking that the file fits the model: its shape, and
    /// every setting the file's metadata gives (<c>T</c>, <c>tau</c>, <c>tau_s</c>, <c>v_threshold</c>) must equal the
    /// model's. A file without metadata (SpikingJelly's <c>save_file</c> of a <c>state_dict</c>) is checked on its shape
    /// only. The model's settings never change: to take a file's settings, use <see cref="Load(ReadOnlySpan{byte}, TempotronFileOverrides)"/>.
    /// </summary>
    /// <param name="model">The model; unchanged if anything is wrong.</param>
    /// <param name="data">The file's bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is invalid, its shape is not <c>[out, in]</c> of the model, or a setting in its metadata differs from the model's.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen (see <see cref="Tempotron.Freeze"/>).</exception>
    public static void LoadInto(Tempotron model, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.ThrowIfFrozen();
        var file = ParseGrid(data);
        if (file.Out != model.OutFeatures || file.In != model.InFeatures)
        {
            throw Invalid($"holds weights of shape [{file.Out}, {file.In}]; the model needs [{model.OutFeatures}, {model.InFeatures}]");
        }

        CheckSetting(file, "T", MetadataInt(file, "T"), model.T);
        CheckSetting(file, "tau", MetadataDouble(file, "tau"), model.Tau);
        CheckSetting(file, "tau_s", MetadataDouble(file, "tau_s"), model.TauS);
        CheckSetting(file, "v_threshold", MetadataDouble(file, "v_threshold"), model.VThreshold);
        model.SetWeights(ReadFloats(file, data));
    }

    /// <summary>Replaces an existing model's weights with a stream's, as <see cref="LoadInto(Tempotron, ReadOnlySpan{byte})"/> does.</summary>
    /// <param name="model">The model; unchanged if anything is wrong.</param>
    /// <param name="source">The stream; read to its end.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="InvalidDataException">The data is invalid or does not fit the model.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen.</exception>
    public static void LoadInto(Tempotron model, Stream source) => LoadInto(model, ReadAll(source));

    /// <summary>Replaces an existing model's weights with a file's, as <see cref="LoadInto(Tempotron, ReadOnlySpan{byte})"/> does.</summary>
    /// <param name="model">The model; unchanged if anything is wrong.</param>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="InvalidDataException">The file is invalid or does not fit the model.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static void LoadInto(Tempotron model, string path) => LoadInto(model, File.ReadAllBytes(path));

    /// <summary>Refuses a file whose metadata gives a setting (when it gives it) other than the model's.</summary>
    private static void CheckSetting<T>(ParsedFile file, string key, T? declared, T actual)
        where T : struct, IEquatable<T>
    {
        if (declared is T value && !value.Equals(actual))
        {
            throw Invalid(string.Create(CultureInfo.InvariantCulture,
                $"says {key} = {value} in __metadata__, but the model has {key} = {actual}; load it as a new model instead"));
        }
    }

    private static byte[] ReadAll(Stream source)
    {
        ArgumentNullException.ThrowIfNull(source);
        using var buffer = new MemoryStream();
        source.CopyTo(buffer);
        return buffer.ToArray();
    }
}
