using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace TimingBased.Neurons.Kernels;

/// <summary>
/// The two decaying sums of the grid model's recurrences, <c>A</c> and <c>B</c>, for one 16-float row of outputs held in
/// registers at one vector width: the register-resident body of <see cref="Recurrence.Step"/>. The loops over time
/// that use it are written once, over this type (<see cref="Recurrence"/>'s <c>Of16</c> loops). Every width does the
/// step's operations per lane in double precision and rounds to float at the store, so every width gives the bits of
/// the step's scalar body.
/// </summary>
/// <typeparam name="TSelf">The width: <see cref="RowSums256"/> or <see cref="RowSums512"/>.</typeparam>
internal interface IRowSums<TSelf>
    where TSelf : struct, IRowSums<TSelf>
{
    /// <summary>Zero sums, with <paramref name="decay"/>'s constants held beside them.</summary>
    static abstract TSelf Start(in PspDecay decay);

    /// <summary>
    /// The forward step: <c>A = A decayA + x</c>, <c>B = B decayB + (x + delta)</c>, where <c>x</c> is the sum
    /// <c>((bank0 + bank1) + bank2) + bank3</c> in float of the four <see cref="Scatter.Banks"/> planes at
    /// <paramref name="row"/> (planes <paramref name="plane"/> floats apart from <paramref name="bank0"/>), and
    /// <c>delta</c> is read at <paramref name="row"/> only when <paramref name="hasDelta"/> (otherwise <c>B</c>'s input is
    /// <c>x</c> itself).
    /// </summary>
    void StepBanks(ref float bank0, nuint plane, nuint row, ref float delta, bool hasDelta);

    /// <summary>The reverse step: <c>A = A decayA + x</c>, <c>B = B decayB + x</c> with <c>x</c> the 16 floats at <paramref name="row"/>.</summary>
    void Step(ref float x, nuint row);

    /// <summary>Stores <c>V0 (A - B)</c> (the voltage forward, <c>gk</c> in reverse) at <paramref name="row"/>.</summary>
    void StoreDifference(ref float destination, nuint row);

    /// <summary>
    /// Stores the reverse recurrence's other three planes at <paramref name="row"/>: <c>ga = V0 A</c>, <c>gb = V0 B</c> and
    /// <c>gs = V0 (A / tau - B / tauS)</c>.
    /// </summary>
    void StoreGradients(ref float ga, ref float gb, ref float gs, nuint row);
}

/// <summary><see cref="IRowSums{TSelf}"/> at 256 bits: each sum is four vectors of four doubles.</summary>
internal struct RowSums256 : IRowSums<RowSums256>
{
    private const int Half = 8; // floats per 256-bit vector: a row is two of them
    private Vector256<double> _a0, _a1, _a2, _a3, _b0, _b1, _b2, _b3;
    private Vector256<double> _decayA, _decayB, _v0;
    private Vector256<double> _inverseTau, _inverseTauS;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RowSums256 Start(in PspDecay decay) => new()
    {
        _decayA = Vector256.Create(decay.A),
        _decayB = Vector256.Create(decay.B),
        _v0 = Vector256.Create(decay.V0),
        _inverseTau = Vector256.Create(decay.InverseTau),
        _inverseTauS = Vector256.Create(decay.InverseTauS),
    };

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StepBanks(ref float bank0, nuint plane, nuint row, ref float delta, bool hasDelta)
    {
        var lo = Banks(ref bank0, plane, row);
        var hi = Banks(ref bank0, plane, row + Half);
        var (x0, x1) = Vector256.Widen(lo);
        var (x2, x3) = Vector256.Widen(hi);
        var (y0, y1, y2, y3) = (x0, x1, x2, x3);
        if (hasDelta)
        {
            var (d0, d1) = Vector256.Widen(Vector256.LoadUnsafe(ref delta, row));
            var (d2, d3) = Vector256.Widen(Vector256.LoadUnsafe(ref delta, row + Half));
            (y0, y1, y2, y3) = (x0 + d0, x1 + d1, x2 + d2, x3 + d3);
        }

        Advance(x0, x1, x2, x3, y0, y1, y2, y3);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step(ref float x, nuint row)
    {
        var (x0, x1) = Vector256.Widen(Vector256.LoadUnsafe(ref x, row));
        var (x2, x3) = Vector256.Widen(Vector256.LoadUnsafe(ref x, row + Half));
        Advance(x0, x1, x2, x3, x0, x1, x2, x3);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void StoreDifference(ref float destination, nuint row)
    {
        Vector256.Narrow(_v0 * (_a0 - _b0), _v0 * (_a1 - _b1)).StoreUnsafe(ref destination, row);
        Vector256.Narrow(_v0 * (_a2 - _b2), _v0 * (_a3 - _b3)).StoreUnsafe(ref destination, row + Half);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void StoreGradients(ref float ga, ref float gb, ref float gs, nuint row)
    {
        Vector256.Narrow(_v0 * _a0, _v0 * _a1).StoreUnsafe(ref ga, row);
        Vector256.Narrow(_v0 * _a2, _v0 * _a3).StoreUnsafe(ref ga, row + Half);
        Vector256.Narrow(_v0 * _b0, _v0 * _b1).StoreUnsafe(ref gb, row);
        Vector256.Narrow(_v0 * _b2, _v0 * _b3).StoreUnsafe(ref gb, row + Half);
        Vector256.Narrow(_v0 * ((_a0 * _inverseTau) - (_b0 * _inverseTauS)), _v0 * ((_a1 * _inverseTau) - (_b1 * _inverseTauS))).StoreUnsafe(ref gs, row);
        Vector256.Narrow(_v0 * ((_a2 * _inverseTau) - (_b2 * _inverseTauS)), _v0 * ((_a3 * _inverseTau) - (_b3 * _inverseTauS))).StoreUnsafe(ref gs, row + Half);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Banks(ref float bank0, nuint plane, nuint row) =>
        ((Vector256.LoadUnsafe(ref bank0, row) + Vector256.LoadUnsafe(ref bank0, row + plane))
            + Vector256.LoadUnsafe(ref bank0, row + (2 * plane))) + Vector256.LoadUnsafe(ref bank0, row + (3 * plane));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Advance(
        Vector256<double> x0, Vector256<double> x1, Vector256<double> x2, Vector256<double> x3,
        Vector256<double> y0, Vector256<double> y1, Vector256<double> y2, Vector256<double> y3)
    {
        _a0 = (_a0 * _decayA) + x0;
        _a1 = (_a1 * _decayA) + x1;
        _a2 = (_a2 * _decayA) + x2;
        _a3 = (_a3 * _decayA) + x3;
        _b0 = (_b0 * _decayB) + y0;
        _b1 = (_b1 * _decayB) + y1;
        _b2 = (_b2 * _decayB) + y2;
        _b3 = (_b3 * _decayB) + y3;
    }
}

/// <summary>
/// <see cref="IRowSums{TSelf}"/> at 512 bits: each sum is two vectors of eight doubles, half the instructions of
/// <see cref="RowSums256"/>.
/// </summary>
internal struct RowSums512 : IRowSums<RowSums512>
{
    private Vector512<double> _a0, _a1, _b0, _b1;
    private Vector512<double> _decayA, _decayB, _v0;
    private Vector512<double> _inverseTau, _inverseTauS;

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static RowSums512 Start(in PspDecay decay) => new()
    {
        _decayA = Vector512.Create(decay.A),
        _decayB = Vector512.Create(decay.B),
        _v0 = Vector512.Create(decay.V0),
        _inverseTau = Vector512.Create(decay.InverseTau),
        _inverseTauS = Vector512.Create(decay.InverseTauS),
    };

    /// <summary>The row's <c>V0 (A - B)</c>, as <see cref="StoreDifference"/> stores it.</summary>
    public readonly Vector512<float> Difference => Vector512.Narrow(_v0 * (_a0 - _b0), _v0 * (_a1 - _b1));

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StepBanks(ref float bank0, nuint plane, nuint row, ref float delta, bool hasDelta)
    {
        var (x0, x1) = Vector512.Widen(Banks(ref bank0, plane, row));
        var (y0, y1) = (x0, x1);
        if (hasDelta)
        {
            var (d0, d1) = Vector512.Widen(Vector512.LoadUnsafe(ref delta, row));
            (y0, y1) = (x0 + d0, x1 + d1);
        }

        Advance(x0, x1, y0, y1);
    }

    /// <summary>
    /// <see cref="StepBanks"/> without fractional times, then the four banks' row set to zero (for the next tile); the
    /// tile pair's step.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void StepBanksAndClear(ref float bank0, nuint plane, nuint row)
    {
        var (x0, x1) = Vector512.Widen(Banks(ref bank0, plane, row));
        Vector512<float>.Zero.StoreUnsafe(ref bank0, row);
        Vector512<float>.Zero.StoreUnsafe(ref bank0, row + plane);
        Vector512<float>.Zero.StoreUnsafe(ref bank0, row + (2 * plane));
        Vector512<float>.Zero.StoreUnsafe(ref bank0, row + (3 * plane));
        Advance(x0, x1, x0, x1);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void Step(ref float x, nuint row)
    {
        var (x0, x1) = Vector512.Widen(Vector512.LoadUnsafe(ref x, row));
        Advance(x0, x1, x0, x1);
    }

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void StoreDifference(ref float destination, nuint row) => Difference.StoreUnsafe(ref destination, row);

    /// <inheritdoc/>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly void StoreGradients(ref float ga, ref float gb, ref float gs, nuint row)
    {
        Vector512.Narrow(_v0 * _a0, _v0 * _a1).StoreUnsafe(ref ga, row);
        Vector512.Narrow(_v0 * _b0, _v0 * _b1).StoreUnsafe(ref gb, row);
        Vector512.Narrow(_v0 * ((_a0 * _inverseTau) - (_b0 * _inverseTauS)), _v0 * ((_a1 * _inverseTau) - (_b1 * _inverseTauS))).StoreUnsafe(ref gs, row);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Banks(ref float bank0, nuint plane, nuint row) =>
        ((Vector512.LoadUnsafe(ref bank0, row) + Vector512.LoadUnsafe(ref bank0, row + plane))
            + Vector512.LoadUnsafe(ref bank0, row + (2 * plane))) + Vector512.LoadUnsafe(ref bank0, row + (3 * plane));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private void Advance(Vector512<double> x0, Vector512<double> x1, Vector512<double> y0, Vector512<double> y1)
    {
        _a0 = (_a0 * _decayA) + x0;
        _a1 = (_a1 * _decayA) + x1;
        _b0 = (_b0 * _decayB) + y0;
        _b1 = (_b1 * _decayB) + y1;
    }
}
