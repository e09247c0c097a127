namespace TimingBased.Neurons.Kernels;

/// <summary>
/// The constants of one step of the grid model's recurrences: the per-step decays <c>exp(-1/tau)</c> and
/// <c>exp(-1/tauS)</c>, the PSP normalisation <c>V0</c>, and the inverse time constants the reverse recurrence's
/// <c>gs</c> plane scales by.
/// </summary>
/// <param name="A">The membrane decay per step, <c>exp(-1/tau)</c>.</param>
/// <param name="B">The synaptic decay per step, <c>exp(-1/tauS)</c>.</param>
/// <param name="V0">The PSP normalisation.</param>
/// <param name="InverseTau"><c>1 / tau</c>.</param>
/// <param name="InverseTauS"><c>1 / tauS</c>.</param>
internal readonly record struct PspDecay(double A, double B, double V0, double InverseTau, double InverseTauS)
{
    /// <summary>The constants of time constants <paramref name="tau"/> and <paramref name="tauS"/> (in steps) and normalisation <paramref name="v0"/>.</summary>
    public static PspDecay Of(double tau, double tauS, double v0) => new(Math.Exp(-1.0 / tau), Math.Exp(-1.0 / tauS), v0, 1.0 / tau, 1.0 / tauS);
}
