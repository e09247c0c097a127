using System.Text.Json;
using System.Text.Json.Serialization;

namespace TimingBased.Service;

/// <summary>The body of <c>POST /classify</c>.</summary>
/// <param name="Pixels">784 grey levels in [0, 1], row by row (MNIST's layout divided by 255).</param>
public sealed record ClassifyRequest(float[]? Pixels);

/// <summary>The answer of <c>POST /classify</c>.</summary>
/// <param name="Class">The output with the largest peak voltage (ties: the lowest index).</param>
/// <param name="Fired">Whether that output reached the threshold.</param>
/// <param name="DecisionTime">The first time step at which that output reached the threshold, or null.</param>
/// <param name="Peaks">Every output's peak voltage <c>vMax</c>.</param>
/// <param name="Threshold">The model's threshold.</param>
/// <param name="ModelVersion">The version of the model that answered.</param>
/// <param name="Detail">The spikes and traces, when asked for with <c>?detail=true</c>.</param>
public sealed record ClassifyResponse(int Class, bool Fired, int? DecisionTime, float[] Peaks, double Threshold, long ModelVersion, ClassifyDetail? Detail);

/// <summary>What the page draws: the input spikes and the voltage traces.</summary>
/// <param name="T">The number of time steps.</param>
/// <param name="SpikeAfferents">The afferent of each input spike.</param>
/// <param name="SpikeTimes">The time of each input spike, in the order of <paramref name="SpikeAfferents"/>.</param>
/// <param name="Traces">Each output's voltage over <c>t = 0..T-1</c>.</param>
/// <param name="Crossings">Each output's first threshold crossing, or -1.</param>
public sealed record ClassifyDetail(int T, int[] SpikeAfferents, float[] SpikeTimes, float[][] Traces, int[] Crossings);

/// <summary>The answer of <c>POST /classify/events</c>.</summary>
/// <param name="Class">The first output to fire (ties: the lowest index), or, when none fired, the largest peak.</param>
/// <param name="Fired">Whether an output fired.</param>
/// <param name="DecisionTime">The step at which it fired, or null.</param>
/// <param name="EventsRead">How many events were read before the answer.</param>
/// <param name="Peaks">Every output's peak voltage over the final steps so far.</param>
/// <param name="ModelVersion">The version of the model that answered.</param>
public sealed record StreamResponse(int Class, bool Fired, double? DecisionTime, long EventsRead, float[] Peaks, long ModelVersion);

/// <summary>The answer of <c>GET /model</c> and of an accepted <c>PUT /model</c>.</summary>
/// <param name="Version">The model's version.</param>
/// <param name="InFeatures">Its inputs.</param>
/// <param name="OutFeatures">Its outputs.</param>
/// <param name="T">Its time steps.</param>
/// <param name="PublishedAt">When it was published.</param>
public sealed record ModelResponse(long Version, int InFeatures, int OutFeatures, int T, DateTimeOffset PublishedAt);

/// <summary>A refusal: what was wrong with the request (never an exception's text).</summary>
/// <param name="Error">The reason.</param>
public sealed record ErrorResponse(string Error);

/// <summary>The answer of <c>GET /health</c>.</summary>
/// <param name="Status">"ok".</param>
/// <param name="ModelVersion">The model's version.</param>
public sealed record HealthResponse(string Status, long ModelVersion);

/// <summary>The answer of <c>GET /metrics</c>.</summary>
/// <param name="Requests">Classify requests answered.</param>
/// <param name="ClientErrors">Requests answered 4xx.</param>
/// <param name="ServerErrors">Requests answered 5xx.</param>
/// <param name="P50Milliseconds">The median latency of the last classify requests.</param>
/// <param name="P99Milliseconds">Their 99th percentile.</param>
/// <param name="Window">How many latencies the percentiles cover.</param>
/// <param name="ModelVersion">The model's version.</param>
/// <param name="ModelSwaps">Models accepted since the start.</param>
public sealed record MetricsResponse(long Requests, long ClientErrors, long ServerErrors, double P50Milliseconds, double P99Milliseconds, int Window, long ModelVersion, long ModelSwaps);

/// <summary>The JSON contracts, serialised by source-generated code (no reflection: Native AOT works).</summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(ClassifyRequest))]
[JsonSerializable(typeof(ClassifyResponse))]
[JsonSerializable(typeof(StreamResponse))]
[JsonSerializable(typeof(ModelResponse))]
[JsonSerializable(typeof(ErrorResponse))]
[JsonSerializable(typeof(HealthResponse))]
[JsonSerializable(typeof(MetricsResponse))]
public sealed partial class ServiceJson : JsonSerializerContext;
