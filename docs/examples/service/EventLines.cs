using System.Buffers;
using System.Buffers.Text;
using System.IO.Pipelines;
using TimingBased.Neurons;
using TimingBased.Streaming;

namespace TimingBased.Service;

/// <summary>
/// <c>POST /classify/events</c>: reads events, one per line (<c>afferent time</c>, separated by a space, a comma or a
/// tab; times in time steps, non-decreasing, in <c>[0, T)</c>), feeds them to a <see cref="StreamingTempotron"/> on one
/// snapshot of the model, and answers as soon as an output fires, without reading the rest of the body.
/// </summary>
public static class EventLines
{
    /// <summary>The longest line accepted, in bytes.</summary>
    public const int MaxLineBytes = 64;

    /// <summary>Reads the events of <paramref name="body"/> and answers, or says what is wrong with them.</summary>
    /// <param name="body">The request body.</param>
    /// <param name="host">The served model.</param>
    /// <param name="cancellationToken">The request's cancellation.</param>
    /// <returns>The answer, or the reason for a 400.</returns>
    public static async Task<(StreamResponse? Answer, string? Refusal)> ClassifyAsync(PipeReader body, ModelHost host, CancellationToken cancellationToken)
    {
        var snapshot = host.Current;
        var model = snapshot.Model;
        var stream = new StreamingTempotron(model);
        long events = 0;
        while (true)
        {
            var read = await body.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = read.Buffer;
            var (refusal, fired) = Consume(ref buffer, stream, model, ref events);
            body.AdvanceTo(buffer.Start, buffer.End);
            if (refusal is not null)
            {
                return (null, refusal);
            }

            if (fired)
            {
                break;
            }

            if (buffer.Length > MaxLineBytes)
            {
                return (null, $"Line {events + 1} is longer than {MaxLineBytes} bytes.");
            }

            if (read.IsCompleted)
            {
                if (!buffer.IsEmpty)
                {
                    return (null, $"The body ends inside line {events + 1} (no newline after it): it was cut off.");
                }

                stream.AdvanceTo(model.T);
                break;
            }
        }

        var peaks = stream.MaxVoltages.ToArray();
        var first = stream.FirstToFire;
        return (new StreamResponse(first >= 0 ? first : Prediction.Class(peaks), first >= 0, first >= 0 ? stream.CrossingTimes[first] : null,
            events, peaks, snapshot.Version), null);
    }

    /// <summary>Pushes every complete line of <paramref name="buffer"/>; stops at a bad line or when an output fires.</summary>
    private static (string? Refusal, bool Fired) Consume(ref ReadOnlySequence<byte> buffer, StreamingTempotron stream, Tempotron model, ref long events)
    {
        Span<byte> line = stackalloc byte[MaxLineBytes];
        while (buffer.PositionOf((byte)'\n') is SequencePosition end)
        {
            var raw = buffer.Slice(0, end);
            buffer = buffer.Slice(buffer.GetPosition(1, end));
            if (raw.Length > MaxLineBytes)
            {
                return ($"Line {events + 1} is longer than {MaxLineBytes} bytes.", false);
            }

            raw.CopyTo(line);
            var text = line[..(int)raw.Length].TrimEnd((byte)'\r');
            if (text.IsEmpty)
            {
                continue;
            }

            events++;
            if (!TryParse(text, out var afferent, out var time))
            {
                return ($"Line {events} is not \"afferent time\" (an integer and a number, separated by a space, a comma or a tab).", false);
            }

            if ((uint)afferent >= (uint)model.InFeatures)
            {
                return ($"Line {events}: afferent {afferent} is not in [0, {model.InFeatures}).", false);
            }

            if (!(time >= 0 && time < model.T))
            {
                return ($"Line {events}: time {time} is not in the model's window [0, {model.T}).", false);
            }

            if (time < stream.Time)
            {
                return ($"Line {events}: time {time} is before the previous event's time {stream.Time}; events must be in time order.", false);
            }

            stream.Push(afferent, time);
            if (stream.FirstToFire >= 0)
            {
                return (null, true);
            }
        }

        return (null, false);
    }

    private static bool TryParse(ReadOnlySpan<byte> text, out int afferent, out double time)
    {
        time = 0;
        if (!Utf8Parser.TryParse(text, out afferent, out var used) || used == text.Length)
        {
            return false;
        }

        var rest = text[used..];
        if (rest[0] is not ((byte)' ' or (byte)',' or (byte)'\t'))
        {
            return false;
        }

        rest = rest[1..].TrimStart((byte)' ');
        return Utf8Parser.TryParse(rest, out time, out used) && used == rest.Length;
    }
}
