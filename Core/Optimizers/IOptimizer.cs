using System.Diagnostics.CodeAnalysis;

namespace TimingBased.Optimizers;

/// <summary>Updates a parameter vector in place from its gradient.</summary>
/// <remarks>
/// An optimizer instance keeps per-parameter state (momentum, moments) for the one parameter vector it is
/// first stepped with; stepping it with a vector of another length throws. It is not thread-safe.
/// </remarks>
public interface IOptimizer
{
    /// <summary>Applies one update: <paramref name="parameters"/> -= step(<paramref name="gradient"/>).</summary>
    /// <param name="parameters">The parameters, updated in place.</param>
    /// <param name="gradient">The gradient of the loss with respect to <paramref name="parameters"/>, the same length.</param>
    /// <exception cref="ArgumentException">The lengths differ, or differ from the first call's; nothing changed.</exception>
    /// <exception cref="InvalidOperationException">
    /// A new parameter or state value would not be finite; nothing changed (the library's optimizers check the whole
    /// update before writing any of it, and an implementation used with the trainer must do the same).
    /// </exception>
    [SuppressMessage("Naming", "CA1716:Identifiers should not match keywords", Justification = "Step is PyTorch's name for this operation.")]
    void Step(Span<float> parameters, ReadOnlySpan<float> gradient);

    /// <summary>Forgets the state (momentum, moments, step count), as if newly created.</summary>
    void Reset();
}
