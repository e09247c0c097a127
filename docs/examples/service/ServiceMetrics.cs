using System.Diagnostics;

namespace TimingBased.Service;

/// <summary>
/// Request counts and the latencies of the last <see cref="Window"/> classify requests, from which <c>/metrics</c>
/// reports p50 and p99.
/// </summary>
/// <remarks>Thread safety: any number of requests record at once (counts are interlocked, the latency ring takes a short lock).</remarks>
public sealed class ServiceMetrics
{
    /// <summary>How many recent latencies the percentiles cover.</summary>
    public const int Window = 8192;

    private readonly Lock _ring = new();
    private readonly double[] _latencies = new double[Window];
    private long _recorded;
    private long _requests;
    private long _clientErrors;
    private long _serverErrors;
    private long _swaps;

    /// <summary>Records one finished request.</summary>
    /// <param name="statusCode">Its status code.</param>
    /// <param name="classify">Whether it was a classify request (its latency is recorded).</param>
    /// <param name="elapsedTicks">Its duration, in <see cref="Stopwatch"/> ticks.</param>
    public void Record(int statusCode, bool classify, long elapsedTicks)
    {
        if (statusCode >= 500)
        {
            Interlocked.Increment(ref _serverErrors);
        }
        else if (statusCode >= 400)
        {
            Interlocked.Increment(ref _clientErrors);
        }

        if (!classify)
        {
            return;
        }

        Interlocked.Increment(ref _requests);
        var milliseconds = elapsedTicks * 1000.0 / Stopwatch.Frequency;
        lock (_ring)
        {
            _latencies[_recorded++ % Window] = milliseconds;
        }
    }

    /// <summary>Counts one accepted model.</summary>
    public void ModelSwapped() => Interlocked.Increment(ref _swaps);

    /// <summary>Returns the counts and percentiles now.</summary>
    /// <param name="modelVersion">The served model's version.</param>
    /// <returns>The metrics.</returns>
    public MetricsResponse Snapshot(long modelVersion)
    {
        double[] recent;
        lock (_ring)
        {
            recent = _latencies[..(int)Math.Min(_recorded, Window)];
        }

        Array.Sort(recent);
        return new MetricsResponse(Interlocked.Read(ref _requests), Interlocked.Read(ref _clientErrors), Interlocked.Read(ref _serverErrors),
            Percentile(recent, 0.50), Percentile(recent, 0.99), recent.Length, modelVersion, Interlocked.Read(ref _swaps));
    }

    /// <summary>The nearest-rank percentile of sorted values (0 when there are none).</summary>
    private static double Percentile(double[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
