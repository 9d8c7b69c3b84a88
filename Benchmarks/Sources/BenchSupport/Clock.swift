#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The clocks the benchmarks read: `CLOCK_MONOTONIC` (which the C servers stamp their events
/// with, so a client on the same machine can subtract) and the process's CPU time.
public enum Clock {
    /// Nanoseconds on `CLOCK_MONOTONIC`.
    public static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Seconds on `CLOCK_MONOTONIC`.
    public static func seconds() -> Double {
        Double(nanoseconds()) / 1e9
    }

    /// CPU seconds used by this process so far, all threads together (`CLOCK_PROCESS_CPUTIME_ID`).
    public static func processCPUSeconds() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}

/// Wall and CPU time of one measured piece of work.
public struct Stopwatch: Sendable {
    private let wallStart: UInt64
    private let cpuStart: Double

    /// Starts both clocks.
    public init() {
        cpuStart = Clock.processCPUSeconds()
        wallStart = Clock.nanoseconds()
    }

    /// Wall seconds since the start.
    public var wallSeconds: Double { Double(Clock.nanoseconds() - wallStart) / 1e9 }

    /// Process CPU seconds since the start.
    public var cpuSeconds: Double { Clock.processCPUSeconds() - cpuStart }
}
