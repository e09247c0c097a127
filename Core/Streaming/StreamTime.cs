using System.Globalization;
using TimingBased.Internal;

namespace TimingBased.Streaming;

/// <summary>The streams' one rule for time: it is finite and never goes back.</summary>
internal static class StreamTime
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> (parameter <c>time</c>) unless <paramref name="time"/> is finite and at least <paramref name="now"/>.</summary>
    public static void Validate(double time, double now)
    {
        if (!(double.IsFinite(time) && time >= now))
        {
            ThrowHelper.FloatOutOfRange(nameof(time), time, string.Create(CultureInfo.InvariantCulture, $"a finite time >= the stream's time {now:R}"));
        }
    }
}
