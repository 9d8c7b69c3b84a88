// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-sse",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SSEParser", targets: ["SSEParser"]),
        .library(name: "SSETestServer", targets: ["SSETestServer"]),
        .executable(name: "sse-test-server", targets: ["sse-test-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.3")
    ],
    targets: [
        // The WHATWG event-stream decoder: no dependencies, no Foundation.
        .target(name: "SSEParser"),
        .testTarget(name: "SSEParserTests", dependencies: ["SSEParser"]),

        // The SSE test server with scripted faults (TestServer/): a library for tests and an executable for people.
        .target(
            name: "SSETestServer",
            dependencies: [
                "SSEParser",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
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
                "SSEParser",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            path: "TestServer/Tests/SSETestServerTests"
        ),
    ]
)
