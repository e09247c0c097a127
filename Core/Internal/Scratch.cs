namespace TimingBased.Internal;

/// <summary>
/// Per-thread scratch memory for the neuron kernels: grown on demand, then reused, so that steady-state
/// calls allocate nothing and concurrent calls on different threads never share a buffer. Five independent
/// pools (<see cref="Sample"/>, <see cref="Batch"/>, <see cref="Gradient"/>, <see cref="Events"/>, <see cref="Group"/>) may be in use at the
/// same time; within a pool, every call returns the start of the same array, so carve one call's span into parts.
/// </summary>
internal sealed class Scratch
{
    [ThreadStatic]
    private static Scratch? _current;

    /// <summary>Gets this thread's scratch.</summary>
    public static Scratch Current => _current ??= new Scratch();

    /// <summary>Gets the pool for one sample's working planes.</summary>
    public Pool Sample { get; } = new();

    /// <summary>Gets the pool for per-batch buffers that outlive one sample.</summary>
    public Pool Batch { get; } = new();

    /// <summary>Gets the pool for a weight gradient in internal layout.</summary>
    public Pool Gradient { get; } = new();

    /// <summary>Gets the pool for spike events laid out densely (a sample's row, or a batch for the backward).</summary>
    public Pool Events { get; } = new();

    /// <summary>Gets the pool for a group of samples in the tiled forward (their spike lists and peaks, and voltage planes for a voltage output), and for the grouped backward's planes and peaks.</summary>
    public Pool Group { get; } = new();

    /// <summary>A set of growable arrays; every call returns the start of the same array.</summary>
    internal sealed class Pool
    {
        private AlignedFloats _floats = new(0);
        private double[] _doubles = [];
        private int[] _ints = [];

        /// <summary>Returns <paramref name="length"/> floats starting on a cache-line boundary; contents are unspecified.</summary>
        public Span<float> Floats(int length)
        {
            if (_floats.Length < length)
            {
                _floats = new AlignedFloats(length);
            }

            return _floats.Span[..length];
        }

        /// <summary>Returns <paramref name="length"/> doubles; contents are unspecified.</summary>
        public Span<double> Doubles(int length)
        {
            if (_doubles.Length < length)
            {
                _doubles = new double[length];
            }

            return _doubles.AsSpan(0, length);
        }

        /// <summary>Returns <paramref name="length"/> ints; contents are unspecified.</summary>
        public Span<int> Ints(int length)
        {
            if (_ints.Length < length)
            {
                _ints = new int[length];
            }

            return _ints.AsSpan(0, length);
        }
    }
}
