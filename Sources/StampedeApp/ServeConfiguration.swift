import StampedeConfiguration
import StampedeInventory

/// The settings of `stampede serve`: each from its flag, else its `STAMPEDE_*` variable, else the default.
public struct ServeConfiguration: Sendable, Equatable {
    /// `--host` / `STAMPEDE_HOST`, default 127.0.0.1.
    public var host = "127.0.0.1"
    /// `--port` / `STAMPEDE_PORT`, default 8080 (0 picks a free port).
    public var port = 8080
    /// `--data-dir` / `STAMPEDE_DATA_DIR`, default ./stampede-data.
    public var dataDirectory = "./stampede-data"
    /// `--durability` / `STAMPEDE_DURABILITY`, default sync.
    public var durability = Durability.sync
    /// `--log-level` / `STAMPEDE_LOG_LEVEL`, default info.
    public var logLevel = "info"
    /// `--redis` / `STAMPEDE_REDIS_URL`: when set, inventory lives in this Redis (shared by every instance)
    /// instead of the embedded store, and `--data-dir` is not used.
    public var redisURL: String?
    /// `--redis-connections` / `STAMPEDE_REDIS_CONNECTIONS`, default 4: pooled, pipelined connections.
    public var redisConnections = 4
    /// `--redis-timeout-ms` / `STAMPEDE_REDIS_TIMEOUT_MS`, default 1000: connect and reply timeout.
    public var redisTimeoutMilliseconds = 1000
    /// `--redis-prefix` / `STAMPEDE_REDIS_PREFIX`, default `stampede:`: the prefix of every key.
    public var redisKeyPrefix = "stampede:"
    /// `--redis-coalesced-calls` / `STAMPEDE_REDIS_COALESCED_CALLS`, default 2: deduct script calls in flight at
    /// once per instance; deducts arriving while all are busy leave together in the next call.
    public var redisCoalescedCalls = 2
    /// `--sold-out-cache-ms` / `STAMPEDE_SOLD_OUT_CACHE_MS`, default 100 (0 = off): how long a SKU seen at
    /// zero is answered "sold out" without asking Redis.
    public var soldOutCacheMilliseconds = 100
    /// `--[no-]deduct-fast-path` / `STAMPEDE_DEDUCT_FAST_PATH`, default on: deducts are answered
    /// on the connection's event loop instead of through the router.
    public var deductFastPath = true
    /// `--payment-url` / `STAMPEDE_PAYMENT_URL`: the payment provider's base URL (the API of `stampede payment-sim`);
    /// unset, payments go to a simulator inside the process (no money moves).
    public var paymentURL: String?
    /// `--order-timeout-ms` / `STAMPEDE_ORDER_TIMEOUT_MS`, default 30000: how long an order may take to be paid
    /// before it is compensated (`expired`).
    public var orderTimeoutMilliseconds = 30_000
    /// `--order-hold-ms` / `STAMPEDE_ORDER_HOLD_MS`, default 900000: how long the inventory holds an order's units.
    public var orderHoldMilliseconds = 900_000
    /// `--orders-in-flight-max` / `STAMPEDE_ORDERS_IN_FLIGHT_MAX`, default 10000: checkout sagas running at once.
    public var ordersInFlightMax = 10_000

    public init() {}

    /// Each setting of `serve`, declared once: flag, variable, default and help (``Setting``).
    public enum Settings {
        public static let host = Setting.text(
            "host",
            "STAMPEDE_HOST",
            default: "127.0.0.1",
            "Address to listen on.",
            check: { $0.isEmpty ? "must not be empty" : nil }
        )
        public static let port = Setting.integer(
            "port",
            "STAMPEDE_PORT",
            default: 8080,
            0...65535,
            "Port to listen on (0 picks a free one)."
        )
        public static let dataDirectory = Setting.text(
            "data-dir",
            "STAMPEDE_DATA_DIR",
            default: "./stampede-data",
            "Directory of the durable journal and snapshot.",
            check: { $0.isEmpty ? "must not be empty" : nil }
        )
        public static let durability = Setting.text(
            "durability",
            "STAMPEDE_DURABILITY",
            default: "sync",
            "sync: fsync every acknowledged change (group commit); async: fsync about once a second.",
            check: { Durability(rawValue: $0.lowercased()) == nil ? "'\($0)' is not one of sync, async" : nil }
        )
        static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
        public static let logLevel = Setting.text(
            "log-level",
            "STAMPEDE_LOG_LEVEL",
            default: "info",
            "trace, debug, info, notice, warning, error or critical.",
            check: {
                logLevels.contains($0.lowercased())
                    ? nil : "'\($0)' is not one of \(logLevels.joined(separator: ", "))"
            }
        )
        public static let redisURL = Setting.text(
            "redis",
            "STAMPEDE_REDIS_URL",
            default: "unset (embedded store in --data-dir)",
            "Keep inventory in Redis, shared by every instance: redis://[[user]:password@]host[:port][/db]."
        )
        public static let redisConnections = Setting.integer(
            "redis-connections",
            "STAMPEDE_REDIS_CONNECTIONS",
            default: 4,
            1...256,
            "Pooled, pipelined Redis connections."
        )
        public static let redisTimeoutMilliseconds = Setting.integer(
            "redis-timeout-ms",
            "STAMPEDE_REDIS_TIMEOUT_MS",
            default: 1000,
            1...600_000,
            "Redis connect and reply timeout in ms."
        )
        public static let redisKeyPrefix = Setting.text(
            "redis-prefix",
            "STAMPEDE_REDIS_PREFIX",
            default: "stampede:",
            "Prefix of every Redis key.",
            check: { $0.isEmpty || $0.utf8.count > 64 ? "must be 1 to 64 bytes" : nil }
        )
        public static let redisCoalescedCalls = Setting.integer(
            "redis-coalesced-calls",
            "STAMPEDE_REDIS_COALESCED_CALLS",
            default: 2,
            1...64,
            "Deduct script calls in flight at once; deducts arriving meanwhile share the next call."
        )
        public static let soldOutCacheMilliseconds = Setting.integer(
            "sold-out-cache-ms",
            "STAMPEDE_SOLD_OUT_CACHE_MS",
            default: 100,
            0...60_000,
            "Redis mode: answer \"sold out\" without asking Redis for this many ms after seeing a SKU at zero (0 turns "
                + "it off)."
        )
        public static let deductFastPath = Setting.boolean(
            "deduct-fast-path",
            "STAMPEDE_DEDUCT_FAST_PATH",
            default: true,
            "Answer POST /api/v1/inventory/deduct on the connection's event loop instead of through the router "
                + "(same answers, spans and metrics; about half the CPU per deduct)."
        )
    }

    /// The settings of the orders system.
    public enum OrderSettings {
        public static let paymentURL = Setting.text(
            "payment-url",
            "STAMPEDE_PAYMENT_URL",
            default: "unset (built-in simulator)",
            "Base URL of the payment provider (the API of stampede payment-sim); unset, a simulator in the process "
                + "takes the payments and no money moves.",
            check: { $0.hasPrefix("http://") || $0.hasPrefix("https://") ? nil : "must be an http:// or https:// URL" }
        )
        public static let orderTimeoutMilliseconds = Setting.integer(
            "order-timeout-ms",
            "STAMPEDE_ORDER_TIMEOUT_MS",
            default: 30_000,
            100...3_600_000,
            "How long an order may take to reserve and pay before it is compensated (expired)."
        )
        public static let orderHoldMilliseconds = Setting.integer(
            "order-hold-ms",
            "STAMPEDE_ORDER_HOLD_MS",
            default: 900_000,
            100...86_400_000,
            "How long the inventory holds an order's units; keep it above --order-timeout-ms."
        )
        public static let ordersInFlightMax = Setting.integer(
            "orders-in-flight-max",
            "STAMPEDE_ORDERS_IN_FLIGHT_MAX",
            default: 10_000,
            1...1_000_000,
            "Checkout sagas running at once; past it new orders get 503 orders_busy."
        )
    }

    /// Resolves each setting: the flag if given, else the environment, else the default.
    public init(
        host: String?,
        port: Int?,
        dataDirectory: String?,
        durability: String?,
        logLevel: String?,
        redisURL: String? = nil,
        redisConnections: Int? = nil,
        redisTimeoutMilliseconds: Int? = nil,
        redisKeyPrefix: String? = nil,
        redisCoalescedCalls: Int? = nil,
        soldOutCacheMilliseconds: Int? = nil,
        deductFastPath: Bool? = nil,
        paymentURL: String? = nil,
        orderTimeoutMilliseconds: Int? = nil,
        orderHoldMilliseconds: Int? = nil,
        ordersInFlightMax: Int? = nil,
        environment: [String: String]
    ) throws(ConfigurationError) {
        self.init()
        if let value = try Settings.host.resolve(host, environment) { self.host = value }
        self.port = try Settings.port.value(port, environment)
        if let value = try Settings.dataDirectory.resolve(dataDirectory, environment) { self.dataDirectory = value }
        if let value = try Settings.durability.resolve(durability, environment) {
            self.durability = Durability(rawValue: value.lowercased())!  // checked by the setting
        }
        if let value = try Settings.logLevel.resolve(logLevel, environment) { self.logLevel = value.lowercased() }
        if let value = try Settings.redisURL.resolve(redisURL, environment), !value.isEmpty { self.redisURL = value }
        self.redisConnections = try Settings.redisConnections.value(redisConnections, environment)
        self.redisTimeoutMilliseconds = try Settings.redisTimeoutMilliseconds.value(
            redisTimeoutMilliseconds,
            environment
        )
        if let value = try Settings.redisKeyPrefix.resolve(redisKeyPrefix, environment) { self.redisKeyPrefix = value }
        self.redisCoalescedCalls = try Settings.redisCoalescedCalls.value(redisCoalescedCalls, environment)
        self.soldOutCacheMilliseconds = try Settings.soldOutCacheMilliseconds.value(
            soldOutCacheMilliseconds,
            environment
        )
        self.deductFastPath = try Settings.deductFastPath.value(deductFastPath, environment)
        if let value = try OrderSettings.paymentURL.resolve(paymentURL, environment), !value.isEmpty {
            self.paymentURL = value
        }
        self.orderTimeoutMilliseconds = try OrderSettings.orderTimeoutMilliseconds.value(
            orderTimeoutMilliseconds,
            environment
        )
        self.orderHoldMilliseconds = try OrderSettings.orderHoldMilliseconds.value(orderHoldMilliseconds, environment)
        self.ordersInFlightMax = try OrderSettings.ordersInFlightMax.value(ordersInFlightMax, environment)
        guard self.orderHoldMilliseconds > self.orderTimeoutMilliseconds else {
            throw ConfigurationError(
                OrderSettings.orderHoldMilliseconds.flag,
                "must be above --order-timeout-ms (\(self.orderTimeoutMilliseconds)): a paid order must find its units"
            )
        }
    }
}
