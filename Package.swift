// swift-tools-version:6.1
import PackageDescription

/// Every target compiles with these: an existential is spelled `any`, and a file sees only the members of the
/// modules it imports (so a missing dependency in this file fails the build instead of leaking in).
let strictSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "stampede",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "stampede", targets: ["stampede"]),
        .library(name: "StampedeConfiguration", targets: ["StampedeConfiguration"]),
        .library(name: "StampedeJournal", targets: ["StampedeJournal"]),
        .library(name: "StampedeInventory", targets: ["StampedeInventory"]),
        .library(name: "StampedeOrders", targets: ["StampedeOrders"]),
        .library(name: "StampedePaymentSim", targets: ["StampedePaymentSim"]),
        .library(name: "StampedeTraceAnalysis", targets: ["StampedeTraceAnalysis"]),
        .library(name: "StampedeRedis", targets: ["StampedeRedis"]),
        .library(name: "StampedeInventoryRedis", targets: ["StampedeInventoryRedis"]),
        .library(name: "StampedeLedger", targets: ["StampedeLedger"]),
        .library(name: "StampedeTelemetry", targets: ["StampedeTelemetry"]),
        .library(name: "StampedeHTTPKit", targets: ["StampedeHTTPKit"]),
        .library(name: "StampedeFastPath", targets: ["StampedeFastPath"]),
        .library(name: "StampedeInventoryHTTP", targets: ["StampedeInventoryHTTP"]),
        .library(name: "StampedeOrdersHTTP", targets: ["StampedeOrdersHTTP"]),
        .library(name: "StampedeApp", targets: ["StampedeApp"]),
        .library(name: "StampedeTesting", targets: ["StampedeTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
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
        // Already in the graph through postgres-nio; declared for the orders' ids.
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
    ],
    targets: [
        // MARK: base

        // Settings read from flags and environment variables: the error naming a bad one, and the parsers.
        .target(name: "StampedeConfiguration", swiftSettings: strictSettings),
        // The group-commit journal: frames with CRC, one writer thread, fsync per group, recovery, fail-stop.
        // Generic over the record codec; knows no domain.
        .target(
            name: "StampedeJournal",
            dependencies: [
                .product(name: "Logging", package: "swift-log")
            ],
            swiftSettings: strictSettings
        ),
        // A RESP3 Redis client over SwiftNIO: pipelined pool, scripts, pub/sub, streams. No domain knowledge.
        .target(
            name: "StampedeRedis",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: domains (no HTTP)

        // The inventory: the deduct rules and result codes, the embedded store on the journal, its metric names.
        .target(
            name: "StampedeInventory",
            dependencies: [
                "StampedeJournal",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),

        // Orders: the checkout saga as a state machine, its ports (inventory reservations, payment, the order
        // store) and the runner that drives a saga through them.
        .target(
            name: "StampedeOrders",
            dependencies: [
                "StampedeJournal",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),

        // Kept traces analysed: the critical path and self time per span (`stampede traces slow`).
        .target(
            name: "StampedeTraceAnalysis",
            swiftSettings: strictSettings
        ),

        // MARK: adapters (one per engine and domain)

        // The payment provider simulator (`stampede payment-sim`, and in process for `serve` without a provider):
        // charges once per idempotency key, status, refunds, and faults on demand.
        .target(
            name: "StampedePaymentSim",
            dependencies: [
                "StampedeOrders",
                "StampedeHTTPKit",
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
            ],
            swiftSettings: strictSettings
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
            ],
            swiftSettings: strictSettings
        ),
        // The ledger: every sale and release written behind to PostgreSQL from a durable queue, and reconciliation.
        .target(
            name: "StampedeLedger",
            dependencies: [
                "StampedeInventory",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: process-wide layers

        // Telemetry: OTEL_* validation, bootstrap, tail sampling, W3C baggage, Prometheus. No domain catalogues.
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
            ],
            swiftSettings: strictSettings
        ),
        // The HTTP kit every system's routes share: request context, API errors, middleware, JSON writer,
        // health and readiness, body limits, and the connection limits of the server.
        .target(
            name: "StampedeHTTPKit",
            dependencies: [
                "StampedeConfiguration",
                "StampedeFastPath",
                "StampedeTelemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),
        // Requests answered on the connection's event loop, right behind SwiftNIO's HTTP/1 decoder, by an endpoint
        // that knows its route; generic over the server's child channel, so WebSocket upgrades coexist.
        .target(
            name: "StampedeFastPath",
            dependencies: [
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        // The inventory's HTTP API: routes, bodies, answers, and the deduct endpoint of the fast path.
        // The orders API over HTTP.
        .target(
            name: "StampedeOrdersHTTP",
            dependencies: [
                "StampedeOrders",
                "StampedeHTTPKit",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .target(
            name: "StampedeInventoryHTTP",
            dependencies: [
                "StampedeInventory",
                "StampedeHTTPKit",
                "StampedeFastPath",
                "StampedeTelemetry",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),

        // What the tail-keeping tracer costs per request on its buffered path, in ns, on one thread
        // (`swift run -c release TraceCost`; BENCHMARKS.md).
        .executableTarget(
            name: "TraceCost",
            dependencies: [
                "StampedeTelemetry",
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            path: "Benchmarks/TraceCost",
            swiftSettings: strictSettings
        ),
        // MARK: composition

        // The composition root: opens the stores, fills each domain's ports, builds the one ServiceGroup.
        .target(
            name: "StampedeApp",
            dependencies: [
                "StampedeConfiguration",
                "StampedeInventory",
                "StampedeInventoryRedis",
                "StampedeRedis",
                "StampedeLedger",
                "StampedeTelemetry",
                "StampedeHTTPKit",
                "StampedeFastPath",
                "StampedeInventoryHTTP",
                "StampedeOrders",
                "StampedeOrdersHTTP",
                "StampedePaymentSim",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: strictSettings
        ),
        // The command line: maps flags onto StampedeApp's configuration (`serve`, `worker`, `reconcile`, ...).
        .target(
            name: "StampedeCLI",
            dependencies: [
                "StampedeConfiguration",
                "StampedeApp",
                "StampedeInventory",
                "StampedeInventoryRedis",
                "StampedeRedis",
                "StampedeLedger",
                "StampedeTelemetry",
                "StampedePaymentSim",
                "StampedeTraceAnalysis",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "Instrumentation", package: "swift-distributed-tracing"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .executableTarget(
            name: "stampede",
            dependencies: [
                "StampedeCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),

        // MARK: testing

        // What tests of Stampede (and of code built on it) need: fakes, a manual clock, raw HTTP clients,
        // real-server processes (Redis, PostgreSQL, stampede itself), an OTLP receiver.
        .target(
            name: "StampedeTesting",
            dependencies: [
                "StampedeInventory",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeJournalTests",
            dependencies: ["StampedeJournal", "StampedeTesting"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeInventoryTests",
            dependencies: [
                "StampedeInventory", "StampedeJournal", "StampedeTesting",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeOrdersHTTPTests",
            dependencies: [
                "StampedeApp", "StampedeInventory", "StampedeOrders", "StampedePaymentSim", "StampedeTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeTraceAnalysisTests",
            dependencies: ["StampedeTraceAnalysis"],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeOrdersTests",
            dependencies: [
                "StampedeOrders", "StampedeJournal", "StampedeTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeStoreContractTests",
            dependencies: [
                "StampedeInventory", "StampedeInventoryRedis", "StampedeRedis", "StampedeTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeRedisTests",
            dependencies: [
                "StampedeRedis",
                "StampedeTesting",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeTelemetryTests",
            dependencies: [
                "StampedeTelemetry",
                "StampedeTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeInventoryHTTPTests",
            dependencies: [
                "StampedeConfiguration",
                "StampedeInventoryHTTP",
                "StampedeHTTPKit",
                "StampedeFastPath",
                "StampedeApp",
                "StampedeInventory",
                "StampedeTelemetry",
                "StampedeTesting",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "ServiceContextModule", package: "swift-service-context"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeLedgerTests",
            dependencies: [
                "StampedeLedger", "StampedeInventory", "StampedeInventoryRedis", "StampedeRedis", "StampedeTelemetry",
                "StampedeTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeCLITests",
            dependencies: [
                "StampedeCLI", "StampedeApp", "StampedeConfiguration", "StampedeInventory", "StampedeTesting",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: strictSettings
        ),
        .testTarget(
            name: "StampedeIntegrationTests",
            dependencies: [
                "stampede",
                "StampedeTesting",
                "StampedeRedis",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strictSettings
        ),
    ]
)
