// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "stampede",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stampede", targets: ["stampede"]),
        .library(name: "StampedeInventory", targets: ["StampedeInventory"]),
        .library(name: "StampedeTelemetry", targets: ["StampedeTelemetry"]),
        .library(name: "StampedeHTTP", targets: ["StampedeHTTP"]),
        .library(name: "StampedeRedis", targets: ["StampedeRedis"]),
        .library(name: "StampedeLedger", targets: ["StampedeLedger"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        .package(url: "https://github.com/apple/swift-service-context.git", from: "1.5.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Domain: the inventory engine, its rules, result codes and durable journal. No HTTP here.
        .target(
            name: "StampedeInventory",
            dependencies: [
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ]
        ),
        // A RESP3 Redis client over SwiftNIO: pipelined pool, scripts, pub/sub, streams. No inventory knowledge.
        .target(
            name: "StampedeRedis",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ]
        ),
        // The inventory store on Redis: Lua scripts, coalesced deducts, sold-out cache. Shares stock across instances.
        .target(
            name: "StampedeInventoryRedis",
            dependencies: [
                "StampedeInventory",
                "StampedeRedis",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ]
        ),
        // The ledger: every sale and release written behind to PostgreSQL from a durable queue, and reconciliation.
        .target(
            name: "StampedeLedger",
            dependencies: [
                "StampedeInventory",
                "StampedeTelemetry",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ]
        ),
        // Telemetry: OTel bootstrap, config validation, sampling, metrics catalogue, Prometheus.
        .target(
            name: "StampedeTelemetry",
            dependencies: [
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // HTTP layer: Hummingbird routes, JSON codecs, error mapping, middleware, app builder.
        .target(
            name: "StampedeHTTP",
            dependencies: [
                "StampedeInventory",
                "StampedeTelemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The command line: `stampede serve`, and later `worker`, `reconcile`.
        .target(
            name: "StampedeCLI",
            dependencies: [
                "StampedeHTTP",
                "StampedeInventoryRedis",
                "StampedeRedis",
                "StampedeLedger",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
            ]
        ),
        .executableTarget(
            name: "stampede",
            dependencies: [
                "StampedeCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // Helpers shared by the test targets: temp dirs, child processes, OTLP receiver.
        .target(
            name: "StampedeTestSupport",
            dependencies: [
                "StampedeInventory",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            path: "Tests/StampedeTestSupport"
        ),
        .testTarget(
            name: "StampedeInventoryTests",
            dependencies: ["StampedeInventory", "StampedeTestSupport"]
        ),
        .testTarget(
            name: "StampedeStoreContractTests",
            dependencies: [
                "StampedeInventory", "StampedeInventoryRedis", "StampedeRedis", "StampedeTestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "StampedeRedisTests",
            dependencies: [
                "StampedeRedis",
                "StampedeTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "StampedeTelemetryTests",
            dependencies: [
                "StampedeTelemetry",
                "StampedeTestSupport",
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]
        ),
        .testTarget(
            name: "StampedeHTTPTests",
            dependencies: [
                "StampedeHTTP",
                "StampedeTestSupport",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "StampedeLedgerTests",
            dependencies: [
                "StampedeLedger", "StampedeInventory", "StampedeInventoryRedis", "StampedeRedis", "StampedeTelemetry",
                "StampedeTestSupport",
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ]
        ),
        .testTarget(
            name: "StampedeCLITests",
            dependencies: ["StampedeCLI"]
        ),
        .testTarget(
            name: "StampedeIntegrationTests",
            dependencies: [
                "stampede",
                "StampedeTestSupport",
                "StampedeRedis",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ]
        ),
    ]
)
