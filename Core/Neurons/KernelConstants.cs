using System.Globalization;
using TimingBased.Internal;

namespace TimingBased.Neurons;

/// <summary>
/// The checked constants of a continuous-time model (<see cref="ExactTempotron"/>, <see cref="MultiSpikeTempotron"/>):
/// sizes, window, <c>tau</c>, <c>tauS</c>, threshold, and the derived <c>tPeak</c> and <c>V0</c> that make one PSP
/// peak at 1.
/// </summary>
internal readonly record struct KernelConstants(double Window, double Tau, double TauS, double Threshold, double TPeak, double V0)
{
    /// <summary>Checks every argument (naming the one at fault) and derives <c>tPeak</c> and <c>V0</c>.</summary>
    public static KernelConstants Create(int afferents, int outputs, double window, double tau, double tauS, double threshold)
    {
        if (afferents < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(afferents), afferents, 1);
        }

        if (outputs < 1)
        {
            ThrowHelper.SizeTooSmall(nameof(outputs), outputs, 1);
        }

        if ((long)afferents * outputs > Array.MaxLength)
        {
            ThrowHelper.SizeRule(nameof(outputs), outputs, string.Create(CultureInfo.InvariantCulture,
                $"outputs * afferents <= {Array.MaxLength}; afferents = {afferents}"));
        }

        if (!(double.IsFinite(window) && window > 0))
        {
            ThrowHelper.NotFinitePositive(nameof(window), window);
        }

        Tempotron.ValidateKernelConstants(tau, tauS, threshold, nameof(threshold));
        var tPeak = Tempotron.PeakTime(tau, tauS);
        var v0 = Tempotron.Normalization(tau, tauS, 1.0); // the papers' normalisation: one PSP peaks at 1
        if (!(double.IsFinite(tPeak) && tPeak > 0 && double.IsFinite(v0) && v0 != 0))
        {
            ThrowHelper.FloatOutOfRange(nameof(tau), tau, string.Create(CultureInfo.InvariantCulture,
                $"time constants whose tPeak and V0 are finite and non-zero; tauS = {tauS:R} gives tPeak = {tPeak:R}, V0 = {v0:R}"));
        }

        return new KernelConstants(window, tau, tauS, threshold, tPeak, v0);
    }
}
