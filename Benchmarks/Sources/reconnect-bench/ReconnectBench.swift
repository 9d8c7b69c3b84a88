import BenchSupport
import SSEClient

#if canImport(Glibc)
    import Glibc
#endif

/// `reconnect-bench`: reconnect latency with zero delay, and the backoff's delays against the
/// documented formula.
@main
enum ReconnectBench {
    static func main() async {
        await benchmarkMain("reconnect-bench", Options.self) { options in
            let report = try await run(options)
            print(report.markdown, terminator: "")
            return report.problems.isEmpty
        }
    }

    static func run(_ options: Options) async throws -> Report {
        let ticker = try CompiledProgram(source: BenchPaths.servers + "/ticker.c")
        defer { ticker.remove() }
        let server = try LocalServer.ticker(ticker)
        defer { server.stop() }
        var report = Report(options: options, loadAtStart: loadAverage())
        for (client, drop) in ["fin", "rst"].enumerated() {
            printError("reconnect-bench: \(options.drops) drops (\(drop)) with zero delay")
            // A drop and reconnect take well under 20 ms; a minute more is for a slow machine.
            let samples = try await ZeroDelay.measure(
                server: server, drop: drop, client: client + 1, drops: options.drops,
                timeout: 60 + Double(options.drops) * 0.05)
            report.zeroDelay.append((drop, samples))
            if samples.count < options.drops {
                report.problems.append(
                    "zero delay (\(drop)): only \(samples.count) of \(options.drops) reconnects before the time-out")
            }
        }
        if !options.skipBackoff {
            printError(
                "reconnect-bench: backoff from \(options.baseMilliseconds) ms, \(options.sources) sources × "
                    + "\(options.cycles) cycles × \(options.attempts) attempts")
            report.backoff = try await Backoff.measure(server: server, options: options)
            let expected = options.sources * options.cycles * options.attempts
            if report.backoff.count < expected {
                report.problems.append(
                    "backoff: only \(report.backoff.count) of \(expected) reconnects before the time-out")
            }
        }
        report.loadAtEnd = loadAverage()
        return report
    }
}
