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

    public init() {}

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
        environment: [String: String]
    ) throws(ConfigurationError) {
        self.init()
        if let value = host ?? environment["STAMPEDE_HOST"] {
            guard !value.isEmpty else { throw ConfigurationError("host", "must not be empty") }
            self.host = value
        }
        if let value = port {
            self.port = value
        } else if let text = environment["STAMPEDE_PORT"] {
            guard let value = Int(text) else { throw ConfigurationError("STAMPEDE_PORT", "'\(text)' is not a number") }
            self.port = value
        }
        guard (0...65535).contains(self.port) else { throw ConfigurationError("port", "must be from 0 to 65535") }
        if let value = dataDirectory ?? environment["STAMPEDE_DATA_DIR"] {
            guard !value.isEmpty else { throw ConfigurationError("data-dir", "must not be empty") }
            self.dataDirectory = value
        }
        if let text = durability ?? environment["STAMPEDE_DURABILITY"] {
            guard let value = Durability(rawValue: text.lowercased()) else {
                throw ConfigurationError("durability", "'\(text)' is not one of sync, async")
            }
            self.durability = value
        }
        if let text = logLevel ?? environment["STAMPEDE_LOG_LEVEL"] {
            let levels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
            guard levels.contains(text.lowercased()) else {
                throw ConfigurationError("log-level", "'\(text)' is not one of \(levels.joined(separator: ", "))")
            }
            self.logLevel = text.lowercased()
        }
        if let value = redisURL ?? environment["STAMPEDE_REDIS_URL"], !value.isEmpty {
            self.redisURL = value
        }
        self.redisConnections = try ConfigurationError.integer(
            redisConnections,
            environment,
            "STAMPEDE_REDIS_CONNECTIONS",
            "redis-connections",
            1...256,
            default: 4
        )
        self.redisTimeoutMilliseconds = try ConfigurationError.integer(
            redisTimeoutMilliseconds,
            environment,
            "STAMPEDE_REDIS_TIMEOUT_MS",
            "redis-timeout-ms",
            1...600_000,
            default: 1000
        )
        if let value = redisKeyPrefix ?? environment["STAMPEDE_REDIS_PREFIX"] {
            guard !value.isEmpty, value.utf8.count <= 64 else {
                throw ConfigurationError("redis-prefix", "must be 1 to 64 bytes")
            }
            self.redisKeyPrefix = value
        }
        self.redisCoalescedCalls = try ConfigurationError.integer(
            redisCoalescedCalls,
            environment,
            "STAMPEDE_REDIS_COALESCED_CALLS",
            "redis-coalesced-calls",
            1...64,
            default: 2
        )
        self.soldOutCacheMilliseconds = try ConfigurationError.integer(
            soldOutCacheMilliseconds,
            environment,
            "STAMPEDE_SOLD_OUT_CACHE_MS",
            "sold-out-cache-ms",
            0...60_000,
            default: 100
        )
        self.deductFastPath = try ConfigurationError.boolean(
            deductFastPath,
            environment,
            "STAMPEDE_DEDUCT_FAST_PATH",
            default: true
        )
    }

}
