using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace TimingBased.Benchmarks;

/// <summary>A column with the mean time divided by the benchmark's <c>Batch</c> parameter: the cost of one sample.</summary>
internal sealed class PerSampleColumn : IColumn
{
    public string Id => nameof(PerSampleColumn);
    public string ColumnName => "Per sample";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Time;
    public string Legend => "Mean divided by the number of samples (images) in one operation";

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        var report = summary[benchmarkCase];
        if (report?.ResultStatistics is null)
        {
            return "NA";
        }

        var batch = 1;
        foreach (var p in benchmarkCase.Parameters.Items)
        {
            if (p.Name == "Batch" && p.Value is int b)
            {
                batch = b;
            }
            else if (p.Value?.GetType().GetProperty("Batch")?.GetValue(p.Value) is int nested)
            {
                batch = nested;
            }
        }

        var ns = report.ResultStatistics.Mean / batch;
        return ns >= 1e6 ? $"{ns / 1e6:N2} ms" : ns >= 1e3 ? $"{ns / 1e3:N2} us" : $"{ns:N1} ns";
    }

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
}
