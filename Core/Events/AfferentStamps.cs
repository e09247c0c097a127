namespace TimingBased.Events;

/// <summary>Per-thread stamps for finding a repeated afferent without clearing an array per pattern.</summary>
internal static class AfferentStamps
{
    [ThreadStatic]
    private static int[]? _stamps;

    [ThreadStatic]
    private static int _stamp;

    /// <summary>The first of <paramref name="afferents"/> (each in <c>[0, afferentCount)</c>) seen before it, or -1.</summary>
    public static int FirstRepeated(ReadOnlySpan<int> afferents, int afferentCount)
    {
        var stamps = _stamps is { } existing && existing.Length >= afferentCount ? existing : _stamps = new int[afferentCount];
        if (++_stamp == int.MaxValue)
        {
            Array.Clear(stamps);
            _stamp = 1;
        }

        foreach (var a in afferents)
        {
            if (stamps[a] == _stamp)
            {
                return a;
            }

            stamps[a] = _stamp;
        }

        return -1;
    }
}
