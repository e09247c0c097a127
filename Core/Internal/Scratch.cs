namespace TimingBased.Internal;

/// <summary>
/// Per-thread scratch memory for the neuron kernels: grown on demand, then reused, so that steady-state
/// calls allocate nothing and concurrent calls on different threads never share a buffer.
/// </summary>
internal sealed class Scratch
{
    [ThreadStatic]
    private static Scratch? _current;

    private float[] _floats = [];
    private double[] _doubles = [];
    private int[] _ints = [];

    /// <summary>Gets this thread's scratch.</summary>
    public static Scratch Current => _current ??= new Scratch();

    /// <summary>Returns at least <paramref name="length"/> floats; contents are unspecified.</summary>
    public Span<float> Floats(int length)
    {
        if (_floats.Length < length)
        {
            _floats = new float[length];
        }

        return _floats.AsSpan(0, length);
    }

    /// <summary>Returns at least <paramref name="length"/> doubles; contents are unspecified.</summary>
    public Span<double> Doubles(int length)
    {
        if (_doubles.Length < length)
        {
            _doubles = new double[length];
        }

        return _doubles.AsSpan(0, length);
    }

    /// <summary>Returns at least <paramref name="length"/> ints; contents are unspecified.</summary>
    public Span<int> Ints(int length)
    {
        if (_ints.Length < length)
        {
            _ints = new int[length];
        }

        return _ints.AsSpan(0, length);
    }
}
