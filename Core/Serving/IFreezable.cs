namespace TimingBased.Serving;

/// <summary>
/// A model that can be made read-only for good, so that any number of threads may read it while it is published in a
/// <see cref="ModelSlot{TModel}"/>.
/// </summary>
/// <remarks>
/// After <see cref="Freeze"/>, every call that would change the weights (setting them, an optimizer or learning-rule
/// step, a file loaded into the model) throws <see cref="InvalidOperationException"/> before it changes anything;
/// every read works as before and returns the same bits. Freezing cannot be undone: to change a published model, build
/// (or load) a new one and publish that.
/// </remarks>
public interface IFreezable
{
    /// <summary>Gets whether the model is frozen.</summary>
    bool IsFrozen { get; }

    /// <summary>Makes the model read-only for good; freezing a frozen model does nothing.</summary>
    void Freeze();
}
