using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using TimingBased.Encoding;
using TimingBased.Events;
using TimingBased.Neurons;
using TimingBased.Optimizers;
using TimingBased.Streaming;

namespace TimingBased.Benchmarks;

/// <summary>
/// The event path on 64 real digits (m = 16, T = 100, Tempotron (12544, 10)), each against the library's dense path
/// in the same run: W1e encode to events, W2e forward from events, W3e training step from events, W4e latency of one
/// image (encode to events + forward), W7 streaming (every event of the 64 digits in time order through a stream).
/// </summary>
[MemoryDiagnoser]
[GroupBenchmarksBy(BenchmarkLogicalGroupRule.ByCategory)]
[CategoriesColumn]
public class EventBenchmarks
{
    private const int M = 16;
    private const int T = 100;
    private const int Batch = 64;
    private GaussianTuning _encoder = null!;
    private Tempotron _model = null!;
    private Tempotron _wide = null!;
    private TempotronTrainer _trainer = null!;
    private float[] _pixels = null!;
    private float[] _one = null!;
    private int[] _labels = null!;
    private float[] _dense = null!;
    private float[] _denseOne = null!;
    private SpikeEvents _events = null!;
    private SpikeEvents _oneEvents = null!;
    private SpikeEvents _timeOrdered = null!;
    private float[] _vMax = null!;
    private StreamingTempotron _stream = null!;
    private StreamingTempotron _wideStream = null!;

    /// <summary>Loads and encodes the digits both ways; builds the models.</summary>
    [GlobalSetup]
    public void Setup()
    {
        (_pixels, _labels) = BenchData.Digits(Batch);
        _one = _pixels.AsSpan(0, BenchData.Pixels).ToArray();
        _encoder = new GaussianTuning(1, M, [0f], [1f]);
        _dense = new float[Batch * BenchData.Pixels * M];
        _denseOne = new float[BenchData.Pixels * M];
        _events = new SpikeEvents(BenchData.Pixels * M);
        _oneEvents = new SpikeEvents(BenchData.Pixels * M);
        _encoder.Encode(_pixels, Batch, T, _dense);
        _encoder.Encode(_pixels, Batch, T, _events);
        _timeOrdered = new SpikeEvents(BenchData.Pixels * M);
        _encoder.Encode(_pixels, Batch, T, _timeOrdered);
        _timeOrdered.SortByTime();
        _model = new Tempotron(BenchData.Pixels * M, 10, T, seed: 1);
        _wide = new Tempotron(BenchData.Pixels * M, 100, T, seed: 1);
        _trainer = new TempotronTrainer(_model, new Sgd(0f)); // learning rate 0: every step times the same state (see W3)
        _vMax = new float[Batch * 10];
        _stream = new StreamingTempotron(_model);
        _wideStream = new StreamingTempotron(_wide);
    }

    /// <summary>W1e baseline: the dense encoder.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W1e encode 64 digits")]
    public float EncodeDense()
    {
        _encoder.Encode(_pixels, Batch, T, _dense);
        return _dense[^1];
    }

    /// <summary>W1e: the encoder straight to events.</summary>
    [Benchmark, BenchmarkCategory("W1e encode 64 digits")]
    public int EncodeEvents()
    {
        _events.Clear();
        _encoder.Encode(_pixels, Batch, T, _events);
        return _events.EventCount;
    }

    /// <summary>W2e baseline: the dense forward.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W2e forward MaxVoltage, 64 digits")]
    public float ForwardDense()
    {
        _model.MaxVoltage(_dense, Batch, _vMax);
        return _vMax[0];
    }

    /// <summary>W2e: the forward from the encoder's events.</summary>
    [Benchmark, BenchmarkCategory("W2e forward MaxVoltage, 64 digits")]
    public float ForwardEvents()
    {
        _model.MaxVoltage(_events, _vMax);
        return _vMax[0];
    }

    /// <summary>W3e baseline: the dense training step.</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W3e training step, 64 digits")]
    public float StepDense() => _trainer.Step(_dense, _labels).Loss;

    /// <summary>W3e: the training step from events.</summary>
    [Benchmark, BenchmarkCategory("W3e training step, 64 digits")]
    public float StepEvents() => _trainer.Step(_events, _labels).Loss;

    /// <summary>W4e baseline: dense encode + dense forward of one image (W4's library path).</summary>
    [Benchmark(Baseline = true), BenchmarkCategory("W4e latency, one image")]
    public float LatencyDense()
    {
        _encoder.Encode(_one, 1, T, _denseOne);
        _model.MaxVoltage(_denseOne, 1, _vMax.AsSpan(0, 10));
        return _vMax[0];
    }

    /// <summary>W4e: encode to events + forward from events, one image.</summary>
    [Benchmark, BenchmarkCategory("W4e latency, one image")]
    public float LatencyEvents()
    {
        _oneEvents.Clear();
        _encoder.Encode(_one, 1, T, _oneEvents);
        _model.MaxVoltage(_oneEvents, _vMax.AsSpan(0, 10));
        return _vMax[0];
    }

    /// <summary>W7: every event of the 64 digits, in time order, through a stream with 10 outputs (no early stop).</summary>
    [Benchmark, BenchmarkCategory("W7 streaming, 64 digits")]
    public int Stream10() => RunStream(_stream);

    /// <summary>W7 with 100 outputs.</summary>
    [Benchmark, BenchmarkCategory("W7 streaming, 64 digits")]
    public int Stream100() => RunStream(_wideStream);

    private int RunStream(StreamingTempotron stream)
    {
        var fired = 0;
        for (var d = 0; d < Batch; d++)
        {
            stream.Reset();
            var pattern = _timeOrdered[d];
            for (var k = 0; k < pattern.Count; k++)
            {
                stream.Push(pattern.Afferents[k], pattern.Times[k]);
            }

            stream.AdvanceTo(T);
            fired += stream.FirstToFire;
        }

        return fired;
    }
}
