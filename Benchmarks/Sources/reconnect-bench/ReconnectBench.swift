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
        let options: Options
        do {
            options = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
        } catch {
            printError("reconnect-bench: \(error)\n\n\(Options.usage)")
            exit(1)
        }
        if options.showsHelp {
            print(Options.usage)
            exit(0)
        }
        do {
            let report = try await run(options)
            print(report.markdown, terminator: "")
            exit(0)
        } catch {
            printError("reconnect-bench: \(error)")
            exit(1)
        }
    }

    static func run(_ options: Options) async throws -> Report {
        let ticker = try CompiledProgram(source: BenchPaths.servers + "/ticker.c")
        defer { ticker.remove() }
        let server = try LocalServer.ticker(ticker)
        defer { server.stop() }
        var report = Report(options: options, loadAtStart: loadAverage())
        for drop in ["fin", "rst"] {
            printError("reconnect-bench: \(options.drops) drops (\(drop)) with zero delay")
            report.zeroDelay.append(
                (drop, try await ZeroDelay.measure(server: server, drop: drop, drops: options.drops)))
        }
        if !options.skipBackoff {
            printError(
                "reconnect-bench: backoff from \(options.baseMilliseconds) ms, \(options.sources) sources × "
                    + "\(options.cycles) cycles × \(options.attempts) attempts")
            report.backoff = try await Backoff.measure(server: server, options: options)
        }
        report.loadAtEnd = loadAverage()
        return report
    }
}
