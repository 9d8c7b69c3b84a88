import ArgumentParser

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

/// When `sse-listen` colours its output (`--color`).
public enum ColorChoice: String, CaseIterable, Sendable, ExpressibleByArgument {
    /// Colour a stream only when it is a terminal and `NO_COLOR` is unset or empty.
    case auto
    /// Always colour, even into a pipe and despite `NO_COLOR`.
    case always
    /// Never colour.
    case never
}

/// Whether text written to one stream is coloured, and the ANSI sequences that do it.
public struct TerminalStyle: Sendable, Hashable {
    /// Whether escape sequences are written at all.
    public var colors: Bool

    /// Creates a style.
    public init(colors: Bool) {
        self.colors = colors
    }

    /// No colours.
    public static let plain = TerminalStyle(colors: false)

    /// The style for a stream: coloured for `.always`; for `.auto` only when the stream is a
    /// terminal, `NO_COLOR` is unset or empty (https://no-color.org) and `TERM` is not `dumb`.
    ///
    /// - Parameters:
    ///   - choice: The `--color` option.
    ///   - isTerminal: Whether the stream is a terminal (`isatty`).
    ///   - environment: The process environment (only `NO_COLOR` and `TERM` are read).
    public static func resolve(_ choice: ColorChoice, isTerminal: Bool, environment: [String: String]) -> TerminalStyle
    {
        switch choice {
        case .always: return TerminalStyle(colors: true)
        case .never: return .plain
        case .auto:
            let noColor = !(environment["NO_COLOR"] ?? "").isEmpty
            let dumb = environment["TERM"] == "dumb"
            return TerminalStyle(colors: isTerminal && !noColor && !dumb)
        }
    }

    /// The SGR colours used.
    public enum Color: String, Sendable {
        /// Bold.
        case bold = "1"
        /// Dim (faint).
        case dim = "2"
        /// Red.
        case red = "31"
        /// Green.
        case green = "32"
        /// Yellow.
        case yellow = "33"
        /// Blue.
        case blue = "34"
        /// Magenta.
        case magenta = "35"
        /// Cyan.
        case cyan = "36"
        /// Bold cyan.
        case boldCyan = "1;36"
    }

    /// `text` wrapped in the sequence for `color` and a reset, or `text` alone without colours.
    public func paint(_ text: String, _ color: Color) -> String {
        colors ? "\u{1B}[\(color.rawValue)m\(text)\u{1B}[0m" : text
    }

    /// The palette for pretty-printed JSON, or `nil` without colours.
    public var jsonPalette: JSONPalette? { colors ? .standard : nil }

    /// `text` made safe to show on a terminal: control characters other than tab and line feed
    /// (ESC, CR, DEL, C1 controls) are shown as `\u{1B}`-style escapes, so event data cannot move
    /// the cursor, retitle the window or change colours.
    public func sanitized(_ text: String) -> String {
        guard Self.containsControlCharacters(text) else { return text }
        var result = ""
        result.reserveCapacity(text.utf8.count + 16)
        for scalar in text.unicodeScalars {
            if Self.isUnsafe(scalar) {
                let hex = String(scalar.value, radix: 16, uppercase: true)
                result += paint("\\u{\(hex)}", .dim)
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
        return result
    }

    /// Whether `text` has characters that ``sanitized(_:)`` would escape.
    public static func containsControlCharacters(_ text: String) -> Bool {
        text.unicodeScalars.contains { isUnsafe($0) }
    }

    private static func isUnsafe(_ scalar: Unicode.Scalar) -> Bool {
        let value = scalar.value
        return (value < 0x20 && value != 0x09 && value != 0x0A) || (value >= 0x7F && value < 0xA0)
    }
}

/// Facts about the process's standard streams and environment that decide the defaults.
public struct TerminalEnvironment: Sendable, Hashable {
    /// Whether standard output is a terminal.
    public var stdoutIsTerminal: Bool
    /// Whether standard error is a terminal.
    public var stderrIsTerminal: Bool
    /// The environment variables.
    public var variables: [String: String]

    /// Creates an environment description.
    public init(stdoutIsTerminal: Bool, stderrIsTerminal: Bool, variables: [String: String]) {
        self.stdoutIsTerminal = stdoutIsTerminal
        self.stderrIsTerminal = stderrIsTerminal
        self.variables = variables
    }

    /// The running process's.
    public static func current() -> TerminalEnvironment {
        TerminalEnvironment(
            stdoutIsTerminal: isatty(STDOUT_FILENO) == 1,
            stderrIsTerminal: isatty(STDERR_FILENO) == 1,
            variables: ProcessInfo.processInfo.environment
        )
    }
}
