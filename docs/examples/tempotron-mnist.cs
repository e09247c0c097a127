#:project ../../Core/Core.csproj

// SpikingJelly's tempotron_mnist example in C#: Gaussian receptive-field encoding of real MNIST digits,
// a Tempotron (784*m inputs, 10 outputs) trained with the MSE loss on v_max, prediction argmax v_max. A validation
// split held out of the training images chooses the epoch; the test images are evaluated once, on that epoch's weights.
//   dotnet run -c Release docs/examples/tempotron-mnist.cs      (defaults: the shipped 10,000-digit subset)
//   dotnet run -c Release docs/examples/tempotron-mnist.cs -- --epochs 20 --log run.csv
//   dotnet run -c Release docs/examples/tempotron-mnist.cs -- --hidden 100   (two layers, 784*m -> 100 -> 10)
using System.Diagnostics;
using System.Globalization;
using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.IO;
using TimingBased.Neurons;
using TimingBased.Optimizers;

CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;

Options options;
try
{
    options = Options.Parse(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    Console.Error.WriteLine(Options.Usage);
    return 2;
}

if (options.Help)
{
    Console.WriteLine(Options.Usage);
    return 0;
}

var dataDir = options.Data ?? Path.Combine(ScriptDirectory(), "data");
var train = Dataset.Load(dataDir, "train");
var test = Dataset.Load(dataDir, "t10k");
var m = options.M;
var inFeatures = Dataset.Pixels * m;

// The validation images: a seeded draw from the training set, never trained on.
var split = Enumerable.Range(0, train.Count).ToArray();
new Random(options.Seed + 7919).Shuffle(split);
var validationCount = (int)(options.Validation * train.Count);
var validation = split[..validationCount];
var order = split[validationCount..];
var everyTest = Enumerable.Range(0, test.Count).ToArray();

Console.WriteLine("Tempotron on MNIST (SpikingJelly's tempotron_mnist, in C#)");
Console.WriteLine($"  data        {dataDir}: {order.Length} train + {validation.Length} validation (held out of the {train.Count}) / {test.Count} test images");
Console.WriteLine($"  encoder     GaussianTuning n=1, m={m}, range [0, 1], maxSpikeTime=T={options.T}");
Console.WriteLine(options.Hidden > 0
    ? $"  model       Tempotron({inFeatures}, {options.Hidden}) -> SpikeTimes -> Tempotron({options.Hidden}, 10), T={options.T}, tau=15, tauS=3.75, threshold 1"
    : $"  model       Tempotron({inFeatures}, 10, T={options.T}), tau=15, tauS=3.75, threshold 1");
Console.WriteLine($"  training    {options.Optimizer} lr={options.LearningRate}{(options.Optimizer == "sgd" ? $" momentum={options.Momentum}" : "")}, " +
                  $"batch {options.BatchSize}, {options.Epochs} epochs, seed {options.Seed}, {options.Threads} thread(s), loss MSE on v_max");

var encoder = new GaussianTuning(1, m, [0f], [1f]);
var batch = options.BatchSize;

// One layer: the trainer. Two layers (--hidden H): the hidden layer's SpikeTimes feed the output layer, as SpikingJelly
// stacks Tempotrons, and the loss gradient flows back through the output layer's input gradient and the hidden
// layer's soft arg-max spike-time gradient (TwoLayer below).
var hidden = options.Hidden > 0 ? new Tempotron(inFeatures, options.Hidden, options.T, seed: options.Seed) { MaxDegreeOfParallelism = options.Threads } : null;
var model = hidden is null
    ? new Tempotron(inFeatures, 10, options.T, seed: options.Seed) { MaxDegreeOfParallelism = options.Threads }
    : new Tempotron(hidden.OutFeatures, 10, options.T, seed: options.Seed + 1) { MaxDegreeOfParallelism = options.Threads };

if (options.Load is not null)
{
    TempotronSafetensors.LoadInto(model, options.Load);
    Console.WriteLine($"  weights     loaded from {options.Load}");
}

IOptimizer NewOptimizer() => options.Optimizer == "adam"
    ? new Adam(options.LearningRate)
    : new Sgd(options.LearningRate, options.Momentum);
var trainer = new TempotronTrainer(model, NewOptimizer());
var twoLayer = hidden is null ? null : new TwoLayer(hidden, model, NewOptimizer(), NewOptimizer(), batch);
var pixels = new float[batch * Dataset.Pixels];
var spikes = new float[batch * inFeatures];   // the two-layer path's dense input
var events = new SpikeEvents(inFeatures);     // the one-layer path's: only the spikes (bit-identical results, less work)
var labels = new int[batch];
var rng = new Random(options.Seed);
using var log = options.Log is null ? null : new StreamWriter(options.Log);
log?.WriteLine("epoch,train_loss,train_accuracy,validation_accuracy,seconds");

var bestValidation = -1.0;
var bestEpoch = 0;
var bestWeights = new float[model.WeightCount];
var bestHidden = hidden is null ? [] : new float[hidden.WeightCount];
var total = Stopwatch.StartNew();
var interactive = !Console.IsOutputRedirected;
for (var epoch = 1; epoch <= options.Epochs; epoch++)
{
    var clock = Stopwatch.StartNew();
    rng.Shuffle(order);
    var batches = order.Length / batch; // the last partial batch is dropped, as SpikingJelly's DataLoader(drop_last=True)
    double lossSum = 0;
    var correct = 0;
    for (var k = 0; k < batches; k++)
    {
        train.Fill(order.AsSpan(k * batch, batch), pixels, labels);
        float loss;
        int right;
        if (twoLayer is not null)
        {
            encoder.Encode(pixels, batch, options.T, spikes);
            (loss, right) = twoLayer.Step(spikes, labels);
        }
        else
        {
            events.Clear();
            encoder.Encode(pixels, batch, options.T, events);
            (loss, right) = trainer.Step(events, labels) is var r ? (r.Loss, r.Correct) : default;
        }

        lossSum += loss;
        correct += right;
        if (interactive && (k % 8 == 7 || k == batches - 1))
        {
            Progress(epoch, k + 1, batches, clock.Elapsed.TotalSeconds);
        }
    }

    if (interactive)
    {
        Console.Write("\r" + new string(' ', 100) + "\r");
    }

    // The epoch is chosen on the validation images (the last epoch when none are held out); its weights are kept.
    var validationAccuracy = validation.Length > 0 ? Evaluate(train, validation) : 0;
    if (validationAccuracy > bestValidation || validation.Length == 0)
    {
        (bestValidation, bestEpoch) = (validationAccuracy, epoch);
        model.CopyWeightsTo(bestWeights);
        hidden?.CopyWeightsTo(bestHidden);
        if (options.Save is not null)
        {
            TempotronSafetensors.Save(model, options.Save);
        }
    }

    var trainAccuracy = correct / (double)(batches * batch);
    var seconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine($"epoch {epoch,3}  train loss {lossSum / batches:F4}  train acc {trainAccuracy:P2}  validation acc {validationAccuracy:P2}  {seconds:F1} s");
    log?.WriteLine($"{epoch},{lossSum / batches:R},{trainAccuracy:R},{validationAccuracy:R},{seconds:F3}");
}

if (options.Epochs > 0)
{
    model.SetWeights(bestWeights);
    hidden?.SetWeights(bestHidden);
}

// The test images, once.
var testAccuracy = Evaluate(test, everyTest);
Console.WriteLine(options.Epochs > 0
    ? $"test accuracy {testAccuracy:P2} at epoch {bestEpoch}, chosen on validation accuracy {bestValidation:P2}; total {total.Elapsed.TotalSeconds:F1} s"
    : $"test accuracy {testAccuracy:P2}; total {total.Elapsed.TotalSeconds:F1} s");
if (options.Save is not null)
{
    Console.WriteLine($"the chosen epoch's weights saved to {options.Save} (safetensors; SpikingJelly key {TempotronSafetensors.WeightKey})");
}

return 0;

double Evaluate(Dataset set, int[] indices)
{
    var right = 0;
    for (var start = 0; start < indices.Length; start += batch)
    {
        var n = Math.Min(batch, indices.Length - start);
        set.Fill(indices.AsSpan(start, n), pixels, labels);
        if (twoLayer is not null)
        {
            encoder.Encode(pixels.AsSpan(0, n * Dataset.Pixels), n, options.T, spikes);
            right += twoLayer.Evaluate(spikes.AsSpan(0, n * inFeatures), labels.AsSpan(0, n));
        }
        else
        {
            events.Clear();
            encoder.Encode(pixels.AsSpan(0, n * Dataset.Pixels), n, options.T, events);
            right += trainer.Evaluate(events, labels.AsSpan(0, n)).Correct;
        }
    }

    return right / (double)indices.Length;
}

void Progress(int epoch, int done, int of, double seconds)
{
    const int width = 30;
    var filled = done * width / of;
    var rate = done * batch / Math.Max(seconds, 1e-9);
    var left = (of - done) * batch / Math.Max(rate, 1e-9);
    Console.Write($"\repoch {epoch,3} [{new string('#', filled)}{new string('.', width - filled)}] {done}/{of}  {rate:F0} samples/s  {left:F1} s left ");
}

// File-based apps know their source folder; fall back to the working directory's copy of the repository.
static string ScriptDirectory() =>
    AppContext.GetData("EntryPointFileDirectoryPath") as string ?? Path.Combine("docs", "examples");

/// <summary>
/// Two stacked Tempotrons trained end to end, as SpikingJelly stacks them: the hidden layer's signed spike times are the
/// output layer's input; MSE loss on the output layer's v_max; each layer has its own optimizer.
/// </summary>
internal sealed class TwoLayer(Tempotron hidden, Tempotron output, IOptimizer hiddenOptimizer, IOptimizer outputOptimizer, int batch)
{
    private readonly float[] _spikes = new float[batch * hidden.OutFeatures];
    private readonly float[] _vMax = new float[batch * output.OutFeatures];
    private readonly float[] _dvMax = new float[batch * output.OutFeatures];
    private readonly float[] _dSpikes = new float[batch * hidden.OutFeatures];
    private readonly float[] _dHidden = new float[hidden.WeightCount];
    private readonly float[] _dOutput = new float[output.WeightCount];
    private readonly TempotronTape _hiddenTape = new();
    private readonly TempotronTape _outputTape = new();

    /// <summary>Forward, loss, backward through both layers and one optimizer step each; returns the loss and the correct count.</summary>
    public (float Loss, int Correct) Step(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels)
    {
        var n = labels.Length;
        var spikes = _spikes.AsSpan(0, n * hidden.OutFeatures);
        var vMax = _vMax.AsSpan(0, n * output.OutFeatures);
        // Each forward records a tape, so neither backward runs its forward again (as autograd keeps what it saved).
        hidden.SpikeTimes(_hiddenTape, inSpikes, n, spikes);
        output.MaxVoltage(_outputTape, spikes, n, vMax);
        var loss = output.LossBackward(vMax, labels, _dvMax.AsSpan(0, vMax.Length));
        output.MaxVoltageBackward(_outputTape, _dvMax.AsSpan(0, vMax.Length), _dOutput, _dSpikes.AsSpan(0, spikes.Length));
        hidden.SpikeTimesBackward(_hiddenTape, _dSpikes.AsSpan(0, spikes.Length), _dHidden, []);
        hidden.ApplyGradient(hiddenOptimizer, _dHidden);
        output.ApplyGradient(outputOptimizer, _dOutput);
        return (loss, Correct(vMax, labels));
    }

    /// <summary>The number of samples whose arg-max v_max is the label.</summary>
    public int Evaluate(ReadOnlySpan<float> inSpikes, ReadOnlySpan<int> labels)
    {
        var n = labels.Length;
        var spikes = _spikes.AsSpan(0, n * hidden.OutFeatures);
        var vMax = _vMax.AsSpan(0, n * output.OutFeatures);
        hidden.SpikeTimes(inSpikes, n, spikes);
        output.MaxVoltage(spikes, n, vMax);
        return Correct(vMax, labels);
    }

    private int Correct(ReadOnlySpan<float> vMax, ReadOnlySpan<int> labels)
    {
        var right = 0;
        var outs = output.OutFeatures;
        for (var b = 0; b < labels.Length; b++)
        {
            var row = vMax.Slice(b * outs, outs);
            right += row.IndexOf(System.Numerics.Tensors.TensorPrimitives.Max(row)) == labels[b] ? 1 : 0;
        }

        return right;
    }
}

/// <summary>An MNIST split in memory: pixels as bytes, labels.</summary>
internal sealed class Dataset(IdxImages images, byte[] labels)
{
    public const int Pixels = 784;

    public int Count => images.Count;

    public static Dataset Load(string dir, string prefix)
    {
        var images = IdxFile.ReadImages(Find(dir, $"{prefix}-images-idx3-ubyte"));
        var labels = IdxFile.ReadLabels(Find(dir, $"{prefix}-labels-idx1-ubyte"));
        if (images.Rows * images.Columns != Pixels || images.Count != labels.Length)
        {
            throw new InvalidDataException($"{prefix}: {images.Count} images of {images.Rows}x{images.Columns} and {labels.Length} labels; expected 28x28 images, one label each.");
        }

        return new Dataset(images, labels);
    }

    private static string Find(string dir, string name)
    {
        foreach (var candidate in new[] { name + ".gz", name, name.Replace("-idx", ".idx", StringComparison.Ordinal) })
        {
            var path = Path.Combine(dir, candidate);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"{name}(.gz) not found in {dir}");
    }

    /// <summary>Copies the chosen images as pixel/255 floats (torchvision's ToTensor) and their labels.</summary>
    public void Fill(ReadOnlySpan<int> indices, Span<float> pixels, Span<int> labelsOut)
    {
        for (var k = 0; k < indices.Length; k++)
        {
            var src = images.Pixels.AsSpan(indices[k] * Pixels, Pixels);
            var dst = pixels.Slice(k * Pixels, Pixels);
            for (var p = 0; p < Pixels; p++)
            {
                dst[p] = src[p] / 255f;
            }

            labelsOut[k] = labels[indices[k]];
        }
    }
}

/// <summary>Command-line options; defaults mirror SpikingJelly's example.</summary>
internal sealed record Options
{
    public const string Usage = """
        usage: dotnet run -c Release docs/examples/tempotron-mnist.cs -- [options]
          --epochs N          training epochs (default 100; 0 with --load evaluates)
          --m N               Gaussian neurons per pixel, >= 3 (default 16)
          --T N               time steps, also the encoder's maxSpikeTime (default 100)
          --lr X              learning rate (default 0.001)
          --batch-size N      batch size (default 64)
          --optimizer NAME    sgd or adam (default sgd)
          --momentum X        SGD momentum in [0, 1) (default 0)
          --seed N            shuffling and initialisation seed (default 0)
          --threads N         threads for a batch (default 1)
          --hidden H          two layers, 784*m -> H -> 10, trained end to end (default 0: one layer)
          --data DIR          folder with MNIST IDX files, plain or .gz (default: the shipped subset)
          --log FILE.csv      write per-epoch results as CSV
          --validation F      fraction of the training images held out to choose the epoch (default 0.1; 0: the last epoch)
          --save FILE         save the weights of the chosen epoch (safetensors, loadable by SpikingJelly)
          --load FILE         start from saved weights (with --epochs 0: only evaluate them)
          --help              this text
        """;

    public int Epochs { get; init; } = 100;
    public int M { get; init; } = 16;
    public int T { get; init; } = 100;
    public float LearningRate { get; init; } = 1e-3f;
    public int BatchSize { get; init; } = 64;
    public string Optimizer { get; init; } = "sgd";
    public float Momentum { get; init; }
    public int Seed { get; init; }
    public int Threads { get; init; } = 1;
    public int Hidden { get; init; }
    public double Validation { get; init; } = 0.1;
    public string? Data { get; init; }
    public string? Log { get; init; }
    public string? Save { get; init; }
    public string? Load { get; init; }
    public bool Help { get; init; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var k = 0; k < args.Length; k++)
        {
            var name = args[k];
            if (name is "--help" or "-h")
            {
                o = o with { Help = true };
                continue;
            }

            if (k + 1 >= args.Length)
            {
                throw new ArgumentException($"{name} needs a value");
            }

            var value = args[++k];
            o = name switch
            {
                "--epochs" => o with { Epochs = Int(name, value, 0) },
                "--m" => o with { M = Int(name, value, 3) },
                "--T" => o with { T = Int(name, value, 1) },
                "--lr" => o with { LearningRate = Float(name, value, 0f, float.MaxValue) },
                "--batch-size" => o with { BatchSize = Int(name, value, 1) },
                "--optimizer" => value is "sgd" or "adam" ? o with { Optimizer = value } : throw new ArgumentException($"--optimizer must be sgd or adam, not '{value}'"),
                "--momentum" => o with { Momentum = Float(name, value, 0f, 0.999999f) },
                "--seed" => o with { Seed = Int(name, value, 0) },
                "--threads" => o with { Threads = Int(name, value, 1) },
                "--hidden" => o with { Hidden = Int(name, value, 0) },
                "--validation" => o with { Validation = Float(name, value, 0f, 0.5f) },
                "--data" => Directory.Exists(value) ? o with { Data = value } : throw new ArgumentException($"--data: no folder '{value}'"),
                "--log" => o with { Log = value },
                "--save" => o with { Save = value },
                "--load" => File.Exists(value) ? o with { Load = value } : throw new ArgumentException($"--load: no file '{value}'"),
                _ => throw new ArgumentException($"unknown option '{name}'"),
            };
        }

        if (o.Hidden > 0 && (o.Save is not null || o.Load is not null))
        {
            throw new ArgumentException("--save and --load handle the one-layer model; leave them out with --hidden");
        }

        return o;
    }

    private static int Int(string name, string value, int min) =>
        int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= min
            ? v
            : throw new ArgumentException($"{name} must be an integer >= {min}, not '{value}'");

    private static float Float(string name, string value, float min, float max) =>
        float.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) && v >= min && v <= max
            ? v
            : throw new ArgumentException($"{name} must be a number in [{min}, {max}], not '{value}'");
}
