import ArgumentParser
import SSEClient

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Everything one run of `sse-listen` needs, resolved from the command line: files read, the
/// state file's ID loaded, defaults chosen, and the library's ``EventSource/Configuration`` built.
/// The only place options become library settings.
public struct ListenPlan: Sendable {
    /// The stream's URL.
    public var url: String
    /// How to connect and reconnect.
    public var configuration: EventSource.Configuration
    /// The output format.
    public var format: OutputFormat
    /// `--field`: the value to print from each event's JSON data instead of the data.
    public var field: JSONPath?
    /// `--join`: no line feed between events, one at the end of the run.
    public var joinsEvents: Bool
    /// Colours for standard output.
    public var stdoutStyle: TerminalStyle
    /// Colours for standard error.
    public var stderrStyle: TerminalStyle
    /// The event types to print; empty prints all.
    public var eventTypes: Set<String>
    /// Stop after printing this many events.
    public var maxEvents: Int?
    /// Stop after this long.
    public var timeout: Duration?
    /// Where to keep the last event ID.
    public var stateFile: StateFile?
    /// No status lines.
    public var quiet: Bool
    /// Headers in the status lines.
    public var verbose: Bool
    /// Whether to print the run's figures at the end (`--stats`).
    public var printsStats = false
    /// Where to write them as JSON (`--stats-json`).
    public var statsJSONPath: String?

    /// Whether the run's figures are gathered at all.
    public var gathersStats: Bool { printsStats || statsJSONPath != nil }

    /// Resolves a parsed command.
    ///
    /// - Parameters:
    ///   - command: The parsed (and validated) command line.
    ///   - environment: Terminals and environment variables, for the defaults.
    ///   - readStandardInput: Reads standard input to its end, for `-d @-`; `nil` (the default)
    ///     reads the process's standard input.
    /// - Throws: ``ListenError`` when a file cannot be read or the state file is corrupt.
    public static func resolve(
        _ command: SSEListen,
        environment: TerminalEnvironment,
        readStandardInput: (() throws -> [UInt8])? = nil
    ) throws(ListenError) -> ListenPlan {
        var configuration = try requestConfiguration(
            command.request, transport: command.transport, readStandardInput: readStandardInput)

        // Resuming.
        var stateFile: StateFile?
        var lastEventID = command.resume.lastEventID ?? ""
        if let path = command.resume.stateFile {
            let file = StateFile(path: path)
            if let saved = try file.read() {
                lastEventID = saved
            }
            try file.checkWritable()
            stateFile = file
        }
        configuration.lastEventID = lastEventID

        // Reconnecting.
        let limits = command.limits
        if limits.noReconnect {
            configuration.reconnect = .disabled
        } else {
            if let maxRetries = limits.maxRetries { configuration.reconnect.maximumAttempts = maxRetries }
            if let initial = limits.retryInitial { configuration.reconnect.initialDelay = .milliseconds(initial) }
            if let maximum = limits.retryMax { configuration.reconnect.maximumDelay = .milliseconds(maximum) }
        }
        if let idle = limits.idleTimeout {
            configuration.idleTimeout = idle == 0 ? nil : seconds(idle)
        }
        if let connect = limits.connectTimeout {
            // At least a millisecond: 0.0001 s must not become "no time at all".
            configuration.connectTimeout = max(.milliseconds(1), seconds(connect))
        }
        if let size = limits.maxEventSize {
            configuration.maximumEventSize = size
        }

        // Output.
        let output = command.output
        // -v shows the request as it went on the wire.
        configuration.recordsSentRequests = output.verbose
        configuration.terminator = command.ending.terminator
        configuration.errorEvents = command.ending.errorEventPattern
        var field: JSONPath?
        if let text = output.field {
            guard let path = JSONPath(text) else { throw .usage("--field '\(text)' is not a dot path") }
            field = path
        }
        // --field and --join print data: the default format for them, on a terminal too.
        let format =
            output.format
            ?? (field != nil || output.join ? .data : .defaultFormat(stdoutIsTerminal: environment.stdoutIsTerminal))
        return ListenPlan(
            url: command.url,
            configuration: configuration,
            format: format,
            field: field,
            joinsEvents: output.join,
            stdoutStyle: TerminalStyle.resolve(
                output.color, isTerminal: environment.stdoutIsTerminal, environment: environment.variables),
            stderrStyle: TerminalStyle.resolve(
                output.color, isTerminal: environment.stderrIsTerminal, environment: environment.variables),
            eventTypes: Set(output.eventTypes),
            maxEvents: limits.maxEvents,
            timeout: limits.timeout.map(seconds),
            stateFile: stateFile,
            quiet: output.quiet,
            verbose: output.verbose,
            printsStats: output.stats,
            statsJSONPath: output.statsJSON
        )
    }

    /// The library settings for the request options (`-H`, `-X`, `-d`, `-u`, `-k`, `--cacert`,
    /// `--compressed`) and the transport options, shared by listening and `verify`: files read,
    /// defaults chosen.
    ///
    /// - Throws: ``ListenError`` when a header or a transport option is malformed or a file
    ///   cannot be read.
    public static func requestConfiguration(
        _ request: RequestOptions,
        transport: TransportOptions = TransportOptions(),
        readStandardInput: (() throws -> [UInt8])? = nil
    ) throws(ListenError) -> EventSource.Configuration {
        var configuration = EventSource.Configuration()
        do {
            configuration.transport = try transport.transport()
        } catch {
            throw .usage((error as? ValidationError)?.message ?? "\(error)")
        }

        // Request.
        var headers: [HTTPHeader] = []
        for line in request.headers {
            guard let header = parseHeader(line) else { throw .usage("bad -H/--header '\(line)'") }
            headers.append(header)
        }
        if let user = request.user, headers.value(for: "Authorization") == nil {
            headers.append(HTTPHeader("Authorization", "Basic " + Data(user.utf8).base64EncodedString()))
        }
        if let data = request.data {
            let body = try readBody(
                data, readStandardInput: readStandardInput ?? { try FileIO.readAll(fd: STDIN_FILENO) })
            configuration.body = body
            if headers.value(for: "Content-Type") == nil {
                let isJSON = String(validating: body, as: UTF8.self).map(JSONText.isValid) ?? false
                headers.append(
                    HTTPHeader("Content-Type", isJSON ? "application/json" : "application/x-www-form-urlencoded"))
            }
        }
        configuration.method = request.method ?? (request.data == nil ? "GET" : "POST")
        configuration.headers = headers
        if request.insecure {
            configuration.tls.verifiesPeer = false
        }
        if let caFile = request.caFile {
            try checkCABundle(caFile, option: "--cacert")
            configuration.tls.caFile = caFile
        }
        if let caFile = configuration.transport.proxy.caFile {
            try checkCABundle(caFile, option: "--proxy-cacert")
        }
        configuration.acceptsCompression = request.compressed
        return configuration
    }

    /// Throws unless `path` (given with `option`) is a readable CA bundle in PEM format.
    private static func checkCABundle(_ path: String, option: String) throws(ListenError) {
        let bundle: [UInt8]
        do {
            bundle = try FileIO.readFile(path, limit: 64 * 1024 * 1024)
        } catch {
            throw .unreadableFile("cannot read \(option) file '\(path)': \(error.message)")
        }
        if let problem = PEMBundle.problem(with: bundle, path: path) {
            throw .unreadableFile("\(option) file '\(path)' is not a CA bundle in PEM format: \(problem)")
        }
    }

    /// A `Duration` from seconds given on the command line, capped at about 30 years.
    static func seconds(_ value: Double) -> Duration {
        .milliseconds(Int64((min(value, 1e9) * 1000).rounded()))
    }

    /// The body named by `-d`: the text itself, `@file`'s contents or `@-` (standard input).
    static func readBody(_ argument: String, readStandardInput: () throws -> [UInt8]) throws(ListenError) -> [UInt8] {
        guard argument.hasPrefix("@") else { return Array(argument.utf8) }
        let path = String(argument.dropFirst())
        if path == "-" {
            do {
                return try readStandardInput()
            } catch {
                throw .unreadableFile("cannot read the -d @- body from standard input: \(error)")
            }
        }
        do {
            return try FileIO.readFile(path)
        } catch {
            throw .unreadableFile("cannot read -d/--data file '\(path)': \(error.message)")
        }
    }

    /// Why `url` cannot be listened to, or `nil` when it can.
    public static func problem(withURL url: String) -> String? {
        guard !url.isEmpty else { return "the URL is empty" }
        if url.unicodeScalars.contains(where: { $0.value <= 0x20 || $0.value == 0x7F }) {
            return "'\(url)' is not a URL: it contains spaces or control characters"
        }
        if !url.contains("://") {
            let scheme = url.split(separator: ":", maxSplits: 1).first.map { $0.lowercased() }
            if scheme != "http" && scheme != "https" {
                return "'\(url)' has no scheme; did you mean 'http://\(url)'?"
            }
        }
        if let port = port(of: url) {
            let number = port.allSatisfy { $0.isASCII && $0.isNumber } ? Int(port) : nil
            guard let number, (1...65535).contains(number) else {
                return "'\(url)' has port '\(port)'; a port is a number from 1 to 65535"
            }
        }
        guard let parsed = URL(string: url), let scheme = parsed.scheme?.lowercased() else {
            return "'\(url)' is not a URL; expected something like http://host:port/path"
        }
        guard scheme == "http" || scheme == "https" else {
            return "'\(url)' is not an http or https URL"
        }
        guard let host = parsed.host, !host.isEmpty else {
            return "'\(url)' has no host"
        }
        return nil
    }

    /// The port written in `url`'s authority, if one is (empty after a bare colon counts as none).
    static func port(of url: String) -> Substring? {
        guard let schemeEnd = url.firstRange(of: "://") else { return nil }
        let rest = url[schemeEnd.upperBound...]
        var authority = rest[..<(rest.firstIndex(where: { $0 == "/" || $0 == "?" || $0 == "#" }) ?? rest.endIndex)]
        if let at = authority.lastIndex(of: "@") { authority = authority[authority.index(after: at)...] }
        if authority.first == "[" {
            guard let close = authority.firstIndex(of: "]") else { return nil }
            authority = authority[authority.index(after: close)...]
        }
        guard let colon = authority.lastIndex(of: ":") else { return nil }
        let port = authority[authority.index(after: colon)...]
        return port.isEmpty ? nil : port
    }

    /// Why `line` is not a `Name: value` header, or `nil` when it is one: the message blames
    /// the part that is wrong (no colon, the name, or the value).
    public static func problem(withHeader line: String) -> String? {
        switch header(line) {
        case .success: nil
        case .failure(let problem): problem.message
        }
    }

    /// `Name: value` as a header, or `nil`; see ``problem(withHeader:)`` for why not.
    static func parseHeader(_ line: String) -> HTTPHeader? {
        try? header(line).get()
    }

    /// Why a `-H` argument is not a header.
    struct HeaderProblem: Error {
        var message: String
    }

    /// `Name: value` as a header: the name a non-empty HTTP token, the value trimmed of spaces and
    /// free of CR, LF and NUL (which would split the request).
    static func header(_ line: String) -> Result<HTTPHeader, HeaderProblem> {
        let shown = line.unicodeScalars.map {
            $0 == "\r" ? "\\r" : $0 == "\n" ? "\\n" : $0 == "\0" ? "\\0" : String($0)
        }
        .joined()
        guard let colon = line.firstIndex(of: ":") else {
            return .failure(HeaderProblem(message: "-H/--header needs 'Name: value', got '\(shown)'"))
        }
        let name = String(line[..<colon])
        guard !name.isEmpty, name.utf8.allSatisfy(isTokenCharacter) else {
            return .failure(
                HeaderProblem(
                    message: "-H/--header needs 'Name: value' with a valid field name (letters, digits, "
                        + "!#$%&'*+-.^_`|~), got name '\(shown.prefix(while: { $0 != ":" }))' in '\(shown)'"))
        }
        var value = line[line.index(after: colon)...]
        while let first = value.first, first == " " || first == "\t" { value.removeFirst() }
        while let last = value.last, last == " " || last == "\t" { value.removeLast() }
        guard !value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
            return .failure(
                HeaderProblem(
                    message: "-H/--header value of '\(name)' contains CR, LF or NUL, which would split the "
                        + "request: '\(shown)'"))
        }
        return .success(HTTPHeader(name, String(value)))
    }

    /// Whether `byte` may appear in an HTTP token (RFC 9110 section 5.6.2).
    static func isTokenCharacter(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        default:
            return Array("!#$%&'*+-.^_`|~".utf8).contains(byte)
        }
    }
}
