// swift-tools-version: 6.0
import PackageDescription

// The benchmarks are a package of their own so that `swift test` at the repository root never
// builds them or resolves their dependencies.
let package = Package(
    name: "swift-sse-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, because a path dependency's identity is otherwise the name of the folder the
        // repository happens to be cloned into.
        .package(name: "swift-sse", path: ".."),
        .package(url: "https://github.com/apple/swift-openapi-runtime", exact: "1.13.4"),
        .package(url: "https://github.com/swift-server/async-http-client.git", exact: "1.37.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
    ],
    targets: [
        .executableTarget(
            name: "parser-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "SSEParser", package: "swift-sse"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ]
        ),

        // Issue 14: typed decoding of an OpenAI chat-completion stream, ours against
        // swift-openapi-runtime's asDecodedServerSentEventsWithJSONData, in memory.
        .executableTarget(
            name: "decode-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "SSEParser", package: "swift-sse"),
                .product(name: "SSEClient", package: "swift-sse"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ]
        ),

        // What the end-to-end benchmarks share: clocks, process statistics, subprocesses, corpora.
        // `SSE_BENCH_METRICS=discard` bootstraps a metrics backend that keeps nothing (DiscardingMetrics).
        .target(
            name: "BenchSupport",
            dependencies: ["CBenchShims", .product(name: "CoreMetrics", package: "swift-metrics")]
        ),
        .target(name: "CBenchShims"),

        // Issue 6, 1: throughput of curl, EventSource, sse-listen and async-http-client with
        // swift-openapi-runtime, against the C server shared/bench/blast.c.
        .executableTarget(
            name: "client-bench",
            dependencies: [
                "BenchSupport",
                .product(name: "SSEClient", package: "swift-sse"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ]
        ),
        // Issue 6, 2: a thousand EventSources in one process against Servers/ticker.c.
        .executableTarget(
            name: "streams-bench",
            dependencies: ["BenchSupport", .product(name: "SSEClient", package: "swift-sse")]
        ),
        // Issue 6, 3: reconnect latency and the backoff distribution, against Servers/ticker.c.
        .executableTarget(
            name: "reconnect-bench",
            dependencies: ["BenchSupport", .product(name: "SSEClient", package: "swift-sse")]
        ),
        // Issue 6, 4: resident memory over a long run with periodic drops.
        .executableTarget(
            name: "soak-bench",
            dependencies: ["BenchSupport", .product(name: "SSEClient", package: "swift-sse")]
        ),
    ]
)
