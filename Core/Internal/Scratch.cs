using System.Diagnostics;

namespace TimingBased.Internal;

/// <summary>
/// Per-thread scratch memory for the neuron kernels: grown on demand, then reused, so that steady-state
/// calls allocate nothing and concurrent calls on different threads never share a buffer. Six independent
/// pools (<see cref="Sample"/>, <see cref="Batch"/>, <see cref="Gradient"/>, <see cref="Events"/>, <see cref="Group"/>, <see cref="Peaks"/>) may be in use at the
/// same time; within a pool, every call returns the start of the same array, so carve one call's span into parts.
/// <see cref="TileBanks"/> is apart: it is zero between uses.
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

    /// <summary>Gets the pool for a weight gradient in internal layout (or a block of one), and phase 2's spike-list positions (its ints; see <see cref="Phase2"/>).</summary>
    public Pool Gradient { get; } = new();

    /// <summary>Gets the pool for spike events laid out densely (a sample's row, or a batch for the backward).</summary>
    public Pool Events { get; } = new();

    /// <summary>Gets the pool for the peak voltages a prediction turns into classes (no kernel uses it).</summary>
    public Pool Peaks { get; } = new();

    /// <summary>Gets the pool for a group of samples in the tiled forward (their spike lists and peaks, and voltage planes for a voltage output), and for the grouped backward's planes and peaks.</summary>
    public Pool Group { get; } = new();

    /// <summary>
    /// Gets or sets which phase 2 run (a process-wide count) and which of its input ranges the spike-list positions in
    /// <see cref="Gradient"/>'s ints stand at: a thread that goes on to that range need not search for them.
    /// </summary>
    public (long Run, int Range) Phase2 { get; set; } = (-1, -1);

    /// <summary>Gets the tiled forward's accumulator banks, which are zero whenever no forward holds them.</summary>
    public ZeroedFloats TileBanks { get; } = new();

    /// <summary>
    /// A growable float array that is all zero whenever no one holds it, so that a user who leaves it zero anyway (the
    /// tile recurrences clear the banks they read) need not clear it first: <see cref="Take"/> clears it only when the
    /// previous user did not <see cref="Return"/> it (an exception on the way), and a user must return it only zero.
    /// </summary>
    internal sealed class ZeroedFloats
    {
        private AlignedFloats _floats = new(0);
        private bool _held;

        /// <summary>Returns <paramref name="length"/> zero floats starting on a cache-line boundary, held until <see cref="Return"/>.</summary>
        public Span<float> Take(int length)
        {
            if (_floats.Length < length)
            {
                _floats = new AlignedFloats(length); // zeroed
            }
            else if (_held)
            {
                _floats.Span.Clear(); // its last user did not return it: it may hold anything
            }

            _held = true;
            var span = _floats.Span[..length];
            Debug.Assert(!span.ContainsAnyExcept(0f), "a user returned the banks without clearing them");
            return span;
        }

        /// <summary>Gives the array back; the caller has left every float it was given zero.</summary>
        public void Return() => _held = false;
    }

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
