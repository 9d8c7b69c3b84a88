// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-sse",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SSEParser", targets: ["SSEParser"]),
        .library(name: "SSEClient", targets: ["SSEClient"]),
        .executable(name: "sse-listen", targets: ["sse-listen"]),
        .executable(name: "sse-contract-service", targets: ["sse-contract-service"]),
        .library(name: "SSETestServer", targets: ["SSETestServer"]),
        .executable(name: "sse-test-server", targets: ["sse-test-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.5.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.1.0"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        // The WHATWG event-stream decoder: no dependencies but a SIMD UTF-8 validator in C, no Foundation.
        .target(name: "CUTF8Validation"),
        .target(name: "SSEParser", dependencies: ["CUTF8Validation"]),
        .testTarget(name: "SSEParserTests", dependencies: ["SSEParser", "CUTF8Validation"]),

        // The system libcurl, and non-variadic wrappers Swift can call.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"]), .brew(["curl"])]
        ),
        .target(name: "CCurlShims", dependencies: ["CCurl"]),

        // The libcurl-backed EventSource: reconnects, Last-Event-ID, backoff, idle timeout.
        .target(
            name: "SSEClient",
            dependencies: [
                "SSEParser",
                "CCurl",
                "CCurlShims",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "SSEClientTests",
            dependencies: [
                "SSEClient", "SSEParser", "SSETestServer", "SSETestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),

        // sse-listen: the terminal consumer. The core is a library so tests can reach its parts.
        .target(
            name: "SSEListenCore",
            dependencies: [
                "SSEClient",
                "SSEParser",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(name: "sse-listen", dependencies: ["SSEListenCore"]),
        .testTarget(
            name: "SSEListenTests",
            dependencies: ["SSEListenCore", "SSEClient", "SSEParser", "SSETestServer", "SSETestSupport"]
        ),

        // The test service that lets the public SSE contract-test suite drive the client.
        .target(
            name: "SSEContractService",
            dependencies: [
                "SSEClient",
                "SSEParser",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "sse-contract-service", dependencies: ["SSEContractService"]),
        .testTarget(
            name: "SSEContractServiceTests",
            dependencies: [
                "SSEContractService", "SSEClient", "SSETestServer", "SSETestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),

        // The SSE test server with scripted faults (TestServer/): a library for tests and an executable for people.
        .target(
            name: "SSETestServer",
            dependencies: [
                "SSEParser",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "TestServer/Sources/SSETestServer"
        ),
        .executableTarget(
            name: "sse-test-server",
            dependencies: ["SSETestServer"],
            path: "TestServer/Sources/sse-test-server"
        ),
        .testTarget(
            name: "SSETestServerTests",
            dependencies: [
                "SSETestServer",
                "SSETestSupport",
                "SSEParser",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "TestServer/Tests/SSETestServerTests"
        ),

        // What the test targets share: bounded waits, child processes, a raw HTTP client. A plain
        // target that only test targets use, so it is in no product.
        .target(
            name: "SSETestSupport",
            dependencies: [
                "SSETestServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "Tests/SSETestSupport"
        ),
    ]
)
