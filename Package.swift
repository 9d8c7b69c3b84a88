// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "swift-sse",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "SSEParser", targets: ["SSEParser"])
    ],
    targets: [
        // The WHATWG event-stream decoder: no dependencies, no Foundation.
        .target(name: "SSEParser"),
        .testTarget(name: "SSEParserTests", dependencies: ["SSEParser"]),
    ]
)
