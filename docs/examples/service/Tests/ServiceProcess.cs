using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;

namespace TimingBased.Service.Tests;

/// <summary>The built service, started as a process of its own on a free loopback port, and stopped with SIGTERM.</summary>
public sealed partial class ServiceProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();
    private bool _disposed;

    private ServiceProcess(Process process) => _process = process;

    /// <summary>Gets the service's base address.</summary>
    public Uri Address { get; private set; } = new("http://127.0.0.1/");

    /// <summary>Gets everything the service wrote so far.</summary>
    public string Log
    {
        get
        {
            lock (_log)
            {
                return _log.ToString();
            }
        }
    }

    /// <summary>Starts the service with the given configuration (as <c>--Key=value</c> arguments) and waits until it listens.</summary>
    public static ServiceProcess Start(params string[] settings)
    {
        var dll = Path.Combine(Paths.ServiceOutput, "TimingBased.Service.dll");
        Assert.That(File.Exists(dll), Is.True, $"the service is built: {dll}");
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add(dll);
        info.ArgumentList.Add("--urls=http://127.0.0.1:0");
        foreach (var s in settings)
        {
            info.ArgumentList.Add(s);
        }

        info.Environment["Logging__Console__FormatterName"] = "simple";
        var service = new ServiceProcess(Process.Start(info)!);
        var listening = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            lock (service._log)
            {
                service._log.AppendLine(line);
            }

            if (ListeningLine().Match(line) is { Success: true } m)
            {
                listening.TrySetResult(new Uri(m.Groups[1].Value + "/"));
            }
        }

        service._process.OutputDataReceived += (_, e) => OnLine(e.Data);
        service._process.ErrorDataReceived += (_, e) => OnLine(e.Data);
        service._process.BeginOutputReadLine();
        service._process.BeginErrorReadLine();
        if (!listening.Task.Wait(TimeSpan.FromSeconds(30)))
        {
            service.Dispose();
            Assert.Fail($"the service did not start listening within 30 s:\n{service.Log}");
        }

        service.Address = listening.Task.Result;
        return service;
    }

    /// <summary>Stops the service as a process manager would (SIGTERM) and returns its exit code.</summary>
    public int Stop()
    {
        if (_process.HasExited)
        {
            return _process.ExitCode;
        }

        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            kill.WaitForExit();
        }

        if (!_process.WaitForExit(TimeSpan.FromSeconds(20)))
        {
            _process.Kill();
            Assert.Fail("the service did not stop within 20 s of SIGTERM");
        }

        return _process.ExitCode;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill();
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    [GeneratedRegex(@"Now listening on: (http://127\.0\.0\.1:\d+)")]
    private static partial Regex ListeningLine();
}
