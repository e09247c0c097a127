using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;

namespace TimingBased.Internal;

/// <summary>
/// The library's throw site for argument and result errors: cold, never-inlined methods whose messages carry the parameter,
/// what was expected and what was given. Validation code calls these so that hot methods stay small.
/// </summary>
internal static class ThrowHelper
{
    private static string F(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);

    /// <summary>Throws when a size-like integer is below its minimum.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void SizeTooSmall(string paramName, int value, int minimum) =>
        throw new ArgumentOutOfRangeException(paramName,
            F($"{paramName} must be at least {minimum}; was {value}."));

    /// <summary>Throws when an integer lies outside an inclusive range.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void IntOutOfRange(string paramName, int value, int minimum, int maximum) =>
        throw new ArgumentOutOfRangeException(paramName,
            F($"{paramName} must be in [{minimum}, {maximum}]; was {value}."));

    /// <summary>Throws when a size breaks a documented limit that involves other sizes.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void SizeRule(string paramName, long value, string rule) =>
        throw new ArgumentOutOfRangeException(paramName,
            F($"{paramName} = {value} breaks the size limit {rule}."));

    /// <summary>Throws when a floating-point parameter is not finite and strictly positive.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NotFinitePositive(string paramName, double value) =>
        throw new ArgumentOutOfRangeException(paramName,
            F($"{paramName} must be finite and > 0; was {value:R}."));

    /// <summary>Throws when a floating-point parameter is not finite and non-negative.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NotFiniteNonNegative(string paramName, double value) =>
        throw new ArgumentOutOfRangeException(paramName,
            F($"{paramName} must be finite and >= 0; was {value:R}."));

    /// <summary>Throws when a floating-point parameter lies outside a range.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void FloatOutOfRange(string paramName, double value, string rule) =>
        throw new ArgumentOutOfRangeException(paramName,
            F($"{paramName} must satisfy {rule}; was {value:R}."));

    /// <summary>Throws when a span does not have exactly the expected length.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void LengthMismatch(string paramName, string shape, long expected, int actual) =>
        throw new ArgumentException(
            F($"{paramName} must have shape {shape}, i.e. length {expected}; its length is {actual}."), paramName);

    /// <summary>Throws when a destination span is shorter than the result it must hold.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void DestinationTooShort(string paramName, string shape, long required, int actual) =>
        throw new ArgumentException(
            F($"{paramName} is too short: the result has shape {shape}, i.e. {required} elements; its length is {actual}."), paramName);

    /// <summary>Throws when an input length is not a positive multiple of a row length.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NotPositiveMultiple(string paramName, string shape, int actual, long rowLength, string rowDescription) =>
        throw new ArgumentException(
            F($"{paramName} must have shape {shape}: its length must be a positive multiple of {rowDescription} = {rowLength}; its length is {actual}."), paramName);

    /// <summary>Throws when an element of an input is NaN, giving its coordinate.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NaNAt(string paramName, string coordinate) =>
        throw new ArgumentException(F($"{paramName} contains NaN at {coordinate}."), paramName);

    /// <summary>Throws when an element of an input is not finite, giving its coordinate.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NotFiniteAt(string paramName, string coordinate, float value) =>
        throw new ArgumentException(F($"{paramName} must be finite; it is {value:R} at {coordinate}."), paramName);

    /// <summary>Throws when a per-element rule fails, giving the index and the values involved.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void ElementRule(string paramName, string message) =>
        throw new ArgumentException(message, paramName);

    /// <summary>Throws when a label lies outside [0, classes).</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void LabelOutOfRange(string paramName, int index, int value, int classes) =>
        throw new ArgumentOutOfRangeException(paramName,
            F($"{paramName}[{index}] must be in [0, {classes}); was {value}."));

    /// <summary>Throws when a computed quantity is not finite (training refuses to apply it).</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void NonFiniteResult(string what) =>
        throw new InvalidOperationException(F($"{what} is not finite; nothing was updated."));

    /// <summary>Throws when a frozen model is asked to change its weights.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void Frozen(string model) =>
        throw new InvalidOperationException(F($"This {model} is frozen (published for serving), so its weights cannot change; nothing was changed. Build or load a new model and publish that."));

    /// <summary>Throws when a tensor has the wrong rank or dimensions.</summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void TensorShape(string paramName, string expected, ReadOnlySpan<nint> lengths)
    {
        var given = string.Join(", ", lengths.ToArray());
        throw new ArgumentException(F($"{paramName} must have shape {expected}; its shape is [{given}]."), paramName);
    }

    /// <summary>
    /// Throws when an internal bound that an unchecked memory access relies on does not hold: a library bug, reported
    /// instead of reading or writing out of bounds.
    /// </summary>
    [DoesNotReturn, MethodImpl(MethodImplOptions.NoInlining)]
    public static void InternalBound(string what) =>
        throw new InvalidOperationException(F($"Internal bound broken ({what}); this is a bug in TimingBased, please report it."));
}
