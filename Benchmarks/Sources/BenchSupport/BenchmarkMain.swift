#if canImport(Glibc)
    import Glibc
#endif

/// The command-line options of a benchmark executable.
public protocol BenchmarkOptions: Sendable {
    /// Parses the arguments (without the program name); throws a message for a bad one.
    init(arguments: [String]) throws
    /// Whether `--help` was given.
    var showsHelp: Bool { get }
    /// The text `--help` prints.
    static var usage: String { get }
}

/// The `main` every benchmark executable shares: parses the options (the usage on `--help`, or
/// after the error for a bad option), runs `body`, and exits 0 when it returns `true`, 1 when it
/// returns `false` (a count that did not agree: the report says which) or throws.
public func benchmarkMain<Options: BenchmarkOptions>(
    _ name: String,
    _ options: Options.Type,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Options) async throws -> Bool
) async -> Never {
    let parsed: Options
    do {
        parsed = try Options(arguments: Array(CommandLine.arguments.dropFirst()))
    } catch {
        printError("\(name): \(error)\n\n\(Options.usage)")
        exit(1)
    }
    if parsed.showsHelp {
        print(Options.usage)
        exit(0)
    }
    do {
        exit(try await body(parsed) ? 0 : 1)
    } catch {
        printError("\(name): \(error)")
        exit(1)
    }
}
