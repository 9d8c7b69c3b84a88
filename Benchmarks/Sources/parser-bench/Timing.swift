#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Median wall-clock and CPU time of one case, measured the way `limit.c` measures it:
/// `CLOCK_MONOTONIC` and `CLOCK_PROCESS_CPUTIME_ID` around each run.
struct Timing: Sendable {
    /// Median wall-clock seconds per run.
    var wallSeconds: Double
    /// Median process CPU seconds per run; steadier than wall time on a shared machine.
    var cpuSeconds: Double
    /// How many measured runs the medians are taken over.
    var runs: Int

    /// The medians of the given samples.
    init(wall: [Double], cpu: [Double]) {
        wallSeconds = median(wall)
        cpuSeconds = median(cpu)
        runs = wall.count
    }

    init(wallSeconds: Double, cpuSeconds: Double, runs: Int) {
        self.wallSeconds = wallSeconds
        self.cpuSeconds = cpuSeconds
        self.runs = runs
    }
}

/// Reads the clocks `limit.c` uses.
enum Clock {
    /// Seconds on the monotonic clock.
    static func wall() -> Double {
        read(CLOCK_MONOTONIC)
    }

    /// CPU seconds used by this process, all threads together.
    static func cpu() -> Double {
        read(CLOCK_PROCESS_CPUTIME_ID)
    }

    private static func read(_ clock: clockid_t) -> Double {
        var time = timespec()
        clock_gettime(clock, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) * 1e-9
    }
}

/// The median; the mean of the middle two for an even count, as in `limit.c`.
func median(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "median of no values")
    let sorted = values.sorted()
    let middle = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

/// Runs `body` once to warm up, then `runs` times under the clocks.
///
/// - Returns: The medians and the event count `body` returned, which must be the same every time.
func measure(runs: Int, _ body: () throws -> Int) throws -> (timing: Timing, events: Int) {
    let events = try body()
    var wall: [Double] = []
    var cpu: [Double] = []
    for _ in 0..<runs {
        let wallStart = Clock.wall()
        let cpuStart = Clock.cpu()
        let count = try body()
        cpu.append(Clock.cpu() - cpuStart)
        wall.append(Clock.wall() - wallStart)
        guard count == events else {
            throw BenchmarkError("the same input gave \(events) events in one run and \(count) in another")
        }
    }
    return (Timing(wall: wall, cpu: cpu), events)
}

/// Something that stops the benchmark, as a sentence.
struct BenchmarkError: Error, CustomStringConvertible {
    let description: String

    init(_ description: String) {
        self.description = description
    }
}
