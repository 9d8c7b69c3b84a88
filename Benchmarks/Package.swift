// swift-tools-version: 6.0
import PackageDescription

// The parser benchmark is a package of its own so that `swift test` at the repository root never
// builds it or resolves its dependencies.
let package = Package(
    name: "swift-sse-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        // Named, because a path dependency's identity is otherwise the name of the folder the
        // repository happens to be cloned into.
        .package(name: "swift-sse", path: ".."),
        .package(url: "https://github.com/apple/swift-openapi-runtime", exact: "1.13.4"),
    ],
    targets: [
        .executableTarget(
            name: "parser-bench",
            dependencies: [
                .product(name: "SSEParser", package: "swift-sse"),
                .product(name: "OpenAPIRuntime", package: "swift-openapi-runtime"),
            ]
        )
    ]
)
