import ArgumentParser
import SSEClient

/// The options that say how a request-scoped stream (a model API's answer) ends: its
/// terminator, and the events that carry an error from the server.
public struct EndingOptions: ParsableArguments {
    /// The data of the event that completes the stream.
    @Option(
        name: .customLong("until"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "End (status 0) when an event's data is exactly DATA, such as '[DONE]' (data:[DONE] and data: [DONE] "
                + "both match); that event is not printed. A stream that ends before it and cannot continue (a "
                + "POST, --no-reconnect) exits 3.",
            valueName: "data"
        )
    )
    public var untilData: String?

    /// The type of the event that completes the stream.
    @Option(
        name: .customLong("until-event"),
        parsing: .unconditional,
        help: ArgumentHelp(
            "End (status 0) when an event of this type arrives, such as message_stop or response.completed; that "
                + "event is not printed. Exits 3 like --until when the stream ends before it.",
            valueName: "type"
        )
    )
    public var untilEvent: String?

    /// The types of events that carry an error from the server.
    @Option(
        name: .customLong("error-event"),
        parsing: .unconditionalSingleValue,
        help: ArgumentHelp(
            "An event of this type is the server's error (repeatable): the run ends with status 2, its data shown "
                + "on standard error. Before any other event it is retried like a 503 when the request may be "
                + "repeated.",
            valueName: "type"
        )
    )
    public var errorEvents: [String] = []

    /// Creates empty options; the parser fills them in.
    public init() {}

    /// Rejects empty patterns, which would match nothing anyone means.
    public func validate() throws {
        if untilEvent?.isEmpty == true { throw ValidationError("--until-event needs an event type") }
        if errorEvents.contains(where: \.isEmpty) { throw ValidationError("--error-event needs an event type") }
    }

    /// The terminator these options declare: `--until`, `--until-event`, or either of both.
    var terminator: EventSource.EventPattern? {
        switch (untilData, untilEvent) {
        case (nil, nil):
            return nil
        case (let data?, nil):
            return .data(data)
        case (nil, let type?):
            return .eventType(type)
        case (let data?, let type?):
            let data = EventSource.EventPattern.data(data)
            let type = EventSource.EventPattern.eventType(type)
            return .matching("\(data) or \(type)") { data.matches($0) || type.matches($0) }
        }
    }

    /// The error events these options declare.
    var errorEventPattern: EventSource.EventPattern? {
        errorEvents.isEmpty ? nil : .eventTypes(Set(errorEvents))
    }
}
