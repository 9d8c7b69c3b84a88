/// The 1-minute load average from `/proc/loadavg`, as text ("?" if unreadable).
public func loadAverage() -> String {
    String(readSmallFile("/proc/loadavg").split(separator: " ").first ?? "?")
}
