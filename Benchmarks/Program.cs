using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Exporters;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using TimingBased.Benchmarks;

// The suite:      dotnet run -c Release --project Benchmarks -- --filter '*'
// CI smoke check: dotnet run -c Release --project Benchmarks -- --filter '*' --ci
//                 (every benchmark once, in process: proves they run, measures nothing)
var ci = args.Contains("--ci");
args = [.. args.Where(a => a != "--ci")];
var job = ci
    ? Job.Dry.WithToolchain(InProcessEmitToolchain.Instance)
    : Job.Default.WithWarmupCount(3).WithIterationCount(12).WithLaunchCount(1);
var config = DefaultConfig.Instance
    .AddJob(job.AsDefault())
    .AddColumn(new PerSampleColumn())
    .AddExporter(MarkdownExporter.GitHub)
    .WithOptions(ConfigOptions.JoinSummary | ConfigOptions.DisableLogFile);
BenchmarkSwitcher.FromAssembly(typeof(EncodeBenchmarks).Assembly).Run(args, config);
