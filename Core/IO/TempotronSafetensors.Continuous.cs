using System.Buffers.Binary;
using System.Globalization;
using TimingBased.Neurons;

namespace TimingBased.IO;

// Model files of the continuous-time models (ExactTempotron, MultiSpikeTempotron): float64 weights under the key
// "weight", shape [outputs, afferents], and every constant in the metadata, with the model's kind.
public static partial class TempotronSafetensors
{
    /// <summary>The tensor key of a continuous-time model's weights (<see cref="ExactTempotron"/>, <see cref="MultiSpikeTempotron"/>).</summary>
    public const string ContinuousWeightKey = "weight";

    /// <summary>Serialises an exact Tempotron: float64 weights <c>[outputs, afferents]</c> and its constants.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The file's bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public static byte[] ToBytes(ExactTempotron model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ContinuousBytes(nameof(ExactTempotron), model.Afferents, model.Outputs,
            [model.Window, model.Tau, model.TauS, model.Threshold], model.CopyWeightsTo);
    }

    /// <summary>Serialises a multi-spike Tempotron: float64 weights <c>[outputs, afferents]</c> and its constants.</summary>
    /// <param name="model">The model.</param>
    /// <returns>The file's bytes.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    public static byte[] ToBytes(MultiSpikeTempotron model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return ContinuousBytes(nameof(MultiSpikeTempotron), model.Afferents, model.Outputs,
            [model.Window, model.Tau, model.TauS, model.Threshold], model.CopyWeightsTo);
    }

    /// <summary>Writes an exact Tempotron to a file, replacing it.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(ExactTempotron model, string path) => File.WriteAllBytes(path, ToBytes(model));

    /// <summary>Writes a multi-spike Tempotron to a file, replacing it.</summary>
    /// <param name="model">The model.</param>
    /// <param name="path">The file.</param>
    /// <exception cref="ArgumentNullException">An argument is null.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Save(MultiSpikeTempotron model, string path) => File.WriteAllBytes(path, ToBytes(model));

    /// <summary>Constructs an exact Tempotron from a file's bytes, with the file's constants.</summary>
    /// <param name="data">The file's bytes (written by <see cref="ToBytes(ExactTempotron)"/>).</param>
    /// <returns>The model, unfrozen.</returns>
    /// <exception cref="InvalidDataException">The data is not a valid exact-Tempotron file (another model's file included).</exception>
    public static ExactTempotron LoadExact(ReadOnlySpan<byte> data)
        => LoadContinuous(data, nameof(ExactTempotron),
            static (i, o, c) => new ExactTempotron(i, o, c.Window, c.Tau, c.TauS, c.Threshold), static m => m.WeightStore);

    /// <summary>Constructs an exact Tempotron from a file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The model, unfrozen.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid exact-Tempotron file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static ExactTempotron LoadExact(string path) => LoadExact(File.ReadAllBytes(path));

    /// <summary>Constructs a multi-spike Tempotron from a file's bytes, with the file's constants.</summary>
    /// <param name="data">The file's bytes (written by <see cref="ToBytes(MultiSpikeTempotron)"/>).</param>
    /// <returns>The model, unfrozen.</returns>
    /// <exception cref="InvalidDataException">The data is not a valid multi-spike-Tempotron file (another model's file included).</exception>
    public static MultiSpikeTempotron LoadMultiSpike(ReadOnlySpan<byte> data)
        => LoadContinuous(data, nameof(MultiSpikeTempotron),
            static (i, o, c) => new MultiSpikeTempotron(i, o, c.Window, c.Tau, c.TauS, c.Threshold), static m => m.WeightStore);

    /// <summary>Constructs a multi-spike Tempotron from a file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The model, unfrozen.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid multi-spike-Tempotron file.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static MultiSpikeTempotron LoadMultiSpike(string path) => LoadMultiSpike(File.ReadAllBytes(path));

    /// <summary>
    /// Replaces an exact Tempotron's weights with a file's, after checking that the file is an exact-Tempotron file of
    /// the model's shape and with exactly the model's constants (the model's settings never change; to take a file's
    /// settings, use <see cref="LoadExact(ReadOnlySpan{byte})"/>).
    /// </summary>
    /// <param name="model">The model; unchanged if anything is wrong.</param>
    /// <param name="data">The file's bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is invalid or does not fit the model.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen.</exception>
    public static void LoadInto(ExactTempotron model, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(model);
        LoadIntoContinuous(data, nameof(ExactTempotron), model.WeightStore, new(model.Window, model.Tau, model.TauS, model.Threshold));
    }

    /// <summary>
    /// Replaces a multi-spike Tempotron's weights with a file's, after checking that the file is a multi-spike file of
    /// the model's shape and with exactly the model's constants (the model's settings never change).
    /// </summary>
    /// <param name="model">The model; unchanged if anything is wrong.</param>
    /// <param name="data">The file's bytes.</param>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="InvalidDataException">The data is invalid or does not fit the model.</exception>
    /// <exception cref="InvalidOperationException">The model is frozen.</exception>
    public static void LoadInto(MultiSpikeTempotron model, ReadOnlySpan<byte> data)
    {
        ArgumentNullException.ThrowIfNull(model);
        LoadIntoContinuous(data, nameof(MultiSpikeTempotron), model.WeightStore, new(model.Window, model.Tau, model.TauS, model.Threshold));
    }

    /// <summary>A continuous-time model's constants, as its file's metadata gives them.</summary>
    private readonly record struct ContinuousConstants(double Window, double Tau, double TauS, double Threshold);

    /// <summary>The metadata keys of <see cref="ContinuousConstants"/>, in its order.</summary>
    private static readonly string[] _continuousKeys = ["window", "tau", "tau_s", "threshold"];

    private static byte[] ContinuousBytes(string kind, int afferents, int outputs, double[] constants, Action<Span<double>> copyWeights)
    {
        var inv = CultureInfo.InvariantCulture;
        var metadata = new List<(string, string)>
        {
            ("model", kind),
            ("afferents", afferents.ToString(inv)),
            ("outputs", outputs.ToString(inv)),
        };
        for (var k = 0; k < _continuousKeys.Length; k++)
        {
            metadata.Add((_continuousKeys[k], constants[k].ToString("R", inv)));
        }

        var weights = new double[afferents * outputs];
        copyWeights(weights);
        var file = Assemble(metadata, ContinuousWeightKey, "F64", outputs, afferents, 8, out var dataStart);
        var data = file.AsSpan(dataStart);
        for (var k = 0; k < weights.Length; k++)
        {
            BinaryPrimitives.WriteDoubleLittleEndian(data[(k * 8)..], weights[k]);
        }

        return file;
    }

    private static (ParsedFile File, ContinuousConstants Constants) ParseContinuous(ReadOnlySpan<byte> data, string kind)
    {
        var file = Parse(data, ContinuousWeightKey, null);
        file.Metadata.TryGetValue("model", out var declared);
        if (declared != kind)
        {
            throw Invalid(declared is null
                ? $"has no \"model\" in __metadata__; a {kind} file names its model"
                : $"holds a {declared} (its __metadata__ \"model\"); expected a {kind}");
        }

        CheckMetadataShape(file, "outputs", file.Out);
        CheckMetadataShape(file, "afferents", file.In);
        Span<double> values = stackalloc double[_continuousKeys.Length];
        for (var k = 0; k < values.Length; k++)
        {
            values[k] = MetadataDouble(file, _continuousKeys[k]) ??
                throw Invalid($"has no \"{_continuousKeys[k]}\" in __metadata__; a {kind} file gives every constant");
        }

        return (file, new ContinuousConstants(values[0], values[1], values[2], values[3]));
    }

    /// <summary>A new model of <paramref name="kind"/> with the file's constants, its weights read straight into the model's store (the one copy a load makes).</summary>
    private static TModel LoadContinuous<TModel>(ReadOnlySpan<byte> data, string kind, Func<int, int, ContinuousConstants, TModel> construct,
        Func<TModel, DoubleWeights> store)
    {
        var (file, constants) = ParseContinuous(data, kind);
        TModel model;
        try
        {
            model = construct(file.In, file.Out, constants);
        }
        catch (ArgumentException e)
        {
            throw new InvalidDataException($"Safetensors file gives invalid model parameters: {e.Message}", e);
        }

        var weights = store(model);
        ReadDoubles(file, data, weights.Values);
        weights.Changed();
        return model;
    }

    /// <summary>Checks a file of <paramref name="kind"/> against a model's store and constants, then replaces the weights (validated before anything changes).</summary>
    private static void LoadIntoContinuous(ReadOnlySpan<byte> data, string kind, DoubleWeights store, ContinuousConstants model)
    {
        store.ThrowIfFrozen(kind);
        var (file, declared) = ParseContinuous(data, kind);
        CheckContinuousFit(file, declared, store.Afferents, store.Outputs, model);
        var weights = new double[file.Out * file.In];
        ReadDoubles(file, data, weights);
        store.Set(weights);
    }

    private static void CheckContinuousFit(ParsedFile file, ContinuousConstants declared, int afferents, int outputs, ContinuousConstants model)
    {
        if (file.Out != outputs || file.In != afferents)
        {
            throw Invalid($"holds weights of shape [{file.Out}, {file.In}]; the model needs [{outputs}, {afferents}]");
        }

        CheckSetting(file, "window", (double?)declared.Window, model.Window);
        CheckSetting(file, "tau", (double?)declared.Tau, model.Tau);
        CheckSetting(file, "tau_s", (double?)declared.TauS, model.TauS);
        CheckSetting(file, "threshold", (double?)declared.Threshold, model.Threshold);
    }
}
