import CoreMetrics

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A metrics backend that receives every recording and keeps none: what a bootstrapped
/// `MetricsSystem` costs the client before any real backend's own work.
///
/// Not swift-metrics' `NOOPMetricsHandler`, which is what an application that bootstraps
/// nothing gets already.
public struct DiscardingMetrics: MetricsFactory {
    final class Handler: CounterHandler, FloatingPointCounterHandler, MeterHandler, RecorderHandler, TimerHandler,
        Sendable
    {
        func increment(by: Int64) {}
        func increment(by: Double) {}
        func decrement(by: Double) {}
        func reset() {}
        func set(_ value: Int64) {}
        func set(_ value: Double) {}
        func record(_ value: Int64) {}
        func record(_ value: Double) {}
        func recordNanoseconds(_ duration: Int64) {}
    }

    /// Creates the backend.
    public init() {}

    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler { Handler() }
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func makeFloatingPointCounter(label: String, dimensions: [(String, String)])
        -> any FloatingPointCounterHandler
    {
        Handler()
    }
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler { Handler() }
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
        Handler()
    }
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler { Handler() }
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func destroyCounter(_ handler: any CounterHandler) {}
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {}
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func destroyMeter(_ handler: any MeterHandler) {}
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func destroyRecorder(_ handler: any RecorderHandler) {}
    /// Part of `MetricsFactory`: a handler that discards, or nothing to release.
    public func destroyTimer(_ handler: any TimerHandler) {}

    /// Bootstraps it when `SSE_BENCH_METRICS=discard` is set; returns whether it did.
    @discardableResult
    public static func bootstrapIfAsked() -> Bool {
        guard ProcessInfo.processInfo.environment["SSE_BENCH_METRICS"] == "discard" else { return false }
        MetricsSystem.bootstrap(DiscardingMetrics())
        return true
    }
}
