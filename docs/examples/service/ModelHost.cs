using Microsoft.Extensions.Options;
using TimingBased.Encoding;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Serving;

namespace TimingBased.Service;

/// <summary>
/// The served model: a <see cref="ModelSlot{TModel}"/> of frozen Tempotrons, the encoder every model is fed through,
/// and the guarded replacement of the model from an uploaded file (validated, kept on disk, then published).
/// </summary>
/// <remarks>Thread safety: <see cref="Current"/> may be read by any number of requests while one upload replaces the model; uploads run one at a time.</remarks>
public sealed partial class ModelHost : IDisposable
{
    /// <summary>Pixels per image (28 x 28).</summary>
    public const int Pixels = 784;

    private readonly ModelSlot<Tempotron> _slot;
    private readonly SemaphoreSlim _uploads = new(1, 1);
    private readonly string _storePath;
    private readonly ILogger<ModelHost> _log;

    /// <summary>Loads the stored model if there is a valid one, otherwise the initial model.</summary>
    /// <param name="options">The model settings.</param>
    /// <param name="environment">The host, whose content root relative paths are resolved against.</param>
    /// <param name="log">The log.</param>
    public ModelHost(IOptions<ModelOptions> options, IHostEnvironment environment, ILogger<ModelHost> log)
    {
        var settings = options.Value;
        _log = log;
        Encoder = new GaussianTuning(n: 1, m: settings.ReceptiveFields, xMin: [0f], xMax: [1f]);
        InFeatures = Pixels * settings.ReceptiveFields;
        _storePath = Path.GetFullPath(settings.StorePath, environment.ContentRootPath);
        _slot = new ModelSlot<Tempotron>(LoadAtStart(Path.GetFullPath(settings.InitialPath, environment.ContentRootPath)));
        LogServing(_log, _slot.Current.Version, _slot.Current.Model.InFeatures, _slot.Current.Model.OutFeatures, _slot.Current.Model.T);
    }

    /// <summary>Gets the encoder that turns an image's pixels into the model's input spike times.</summary>
    public GaussianTuning Encoder { get; }

    /// <summary>Gets the number of inputs every served model has, <c>784 m</c>.</summary>
    public int InFeatures { get; }

    /// <summary>Gets the model being served; a request takes it once and uses that snapshot throughout.</summary>
    public ModelSnapshot<Tempotron> Current => _slot.Current;

    /// <summary>
    /// Replaces the model with a model file's, if it is valid and fits the encoder: the file is kept on disk first
    /// (written to a temporary file, then renamed over the stored one), then published. A refused file changes nothing.
    /// </summary>
    /// <param name="file">The uploaded bytes.</param>
    /// <param name="cancellationToken">Cancels waiting for another upload to finish.</param>
    /// <returns>The new snapshot, or the reason the file was refused.</returns>
    public async Task<(ModelSnapshot<Tempotron>? Snapshot, string? Refusal)> ReplaceAsync(byte[] file, CancellationToken cancellationToken)
    {
        Tempotron model;
        try
        {
            model = TempotronSafetensors.Load(file);
        }
        catch (InvalidDataException e)
        {
            LogRefused(_log, file.Length, e.Message);
            return (null, e.Message);
        }

        if (model.InFeatures != InFeatures)
        {
            var reason = $"The model has {model.InFeatures} inputs; this service encodes each image into {InFeatures} (784 pixels x {InFeatures / Pixels} receptive fields).";
            LogRefused(_log, file.Length, reason);
            return (null, reason);
        }

        await _uploads.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            Directory.CreateDirectory(Path.GetDirectoryName(_storePath)!);
            var temporary = _storePath + ".uploading";
            await File.WriteAllBytesAsync(temporary, file, CancellationToken.None).ConfigureAwait(false);
            File.Move(temporary, _storePath, overwrite: true);
            var snapshot = _slot.Publish(model);
            LogPublished(_log, snapshot.Version, model.InFeatures, model.OutFeatures, model.T);
            return (snapshot, null);
        }
        finally
        {
            _uploads.Release();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => _uploads.Dispose();

    private Tempotron LoadAtStart(string initialPath)
    {
        if (File.Exists(_storePath))
        {
            try
            {
                var stored = TempotronSafetensors.Load(_storePath);
                if (stored.InFeatures == InFeatures)
                {
                    LogLoaded(_log, _storePath);
                    return stored;
                }

                LogStoredUnusable(_log, _storePath, $"it has {stored.InFeatures} inputs, not {InFeatures}");
            }
            catch (InvalidDataException e)
            {
                LogStoredUnusable(_log, _storePath, e.Message);
            }
        }

        var initial = TempotronSafetensors.Load(initialPath);
        if (initial.InFeatures != InFeatures)
        {
            throw new InvalidOperationException($"The initial model {initialPath} has {initial.InFeatures} inputs; the encoder gives {InFeatures}.");
        }

        LogLoaded(_log, initialPath);
        return initial;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loaded the model file {Path}")]
    private static partial void LogLoaded(ILogger log, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The stored model {Path} is not used: {Reason}")]
    private static partial void LogStoredUnusable(ILogger log, string path, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving model version {Version}: {In} inputs, {Out} outputs, T = {T}")]
    private static partial void LogServing(ILogger log, long version, int @in, int @out, int t);

    [LoggerMessage(Level = LogLevel.Information, Message = "Published model version {Version}: {In} inputs, {Out} outputs, T = {T}")]
    private static partial void LogPublished(ILogger log, long version, int @in, int @out, int t);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Refused a model upload of {Bytes} bytes: {Reason}")]
    private static partial void LogRefused(ILogger log, int bytes, string reason);
}
