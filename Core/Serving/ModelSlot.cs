namespace TimingBased.Serving;

/// <summary>
/// Holds the model a service serves and swaps it atomically: readers take <see cref="Current"/>, a snapshot of one
/// frozen model, and use it for the whole of a request; a writer publishes a new model, which every later
/// <see cref="Current"/> returns.
/// </summary>
/// <typeparam name="TModel">The model type (<see cref="Neurons.Tempotron"/>, <see cref="Neurons.ExactTempotron"/>,
/// <see cref="Neurons.MultiSpikeTempotron"/>).</typeparam>
/// <remarks>
/// <para>
/// Why a reference swap of frozen models: a published model is never written again, so a reader that took a snapshot
/// computes with exactly that model's weights, whatever is published meanwhile; there is no lock and no copy on the
/// read path (one volatile read), and a swap costs building the new model (one copy of its weights, which loading a
/// model file makes anyway) and one reference write. The old model stays alive until its last reader lets it go.
/// </para>
/// <para>
/// Thread safety: <see cref="Current"/> may be read by any number of threads while others publish; publications are
/// serialised, so versions increase by one at each, in the order the publications took effect.
/// </para>
/// </remarks>
public sealed class ModelSlot<TModel>
    where TModel : class, IFreezable
{
    private readonly Lock _publishing = new();
    private ModelSnapshot<TModel> _current;

    /// <summary>Creates a slot that serves <paramref name="initial"/> as version 1 (freezing it).</summary>
    /// <param name="initial">The first model.</param>
    /// <exception cref="ArgumentNullException"><paramref name="initial"/> is null.</exception>
    public ModelSlot(TModel initial)
    {
        ArgumentNullException.ThrowIfNull(initial);
        initial.Freeze();
        _current = new ModelSnapshot<TModel>(initial, 1, DateTimeOffset.UtcNow);
    }

    /// <summary>Gets the model being served and its version; take it once per request and use that snapshot throughout.</summary>
    public ModelSnapshot<TModel> Current => Volatile.Read(ref _current);

    /// <summary>Freezes <paramref name="model"/> and makes it the one <see cref="Current"/> returns, with the next version.</summary>
    /// <param name="model">The new model; a model that is already published here is refused.</param>
    /// <returns>The new snapshot.</returns>
    /// <exception cref="ArgumentNullException"><paramref name="model"/> is null.</exception>
    /// <exception cref="ArgumentException"><paramref name="model"/> is the model being served.</exception>
    public ModelSnapshot<TModel> Publish(TModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        model.Freeze();
        lock (_publishing)
        {
            var previous = _current;
            if (ReferenceEquals(previous.Model, model))
            {
                throw new ArgumentException("The model is already the one being served; publish a new model object.", nameof(model));
            }

            var next = new ModelSnapshot<TModel>(model, previous.Version + 1, DateTimeOffset.UtcNow);
            Volatile.Write(ref _current, next);
            return next;
        }
    }
}
