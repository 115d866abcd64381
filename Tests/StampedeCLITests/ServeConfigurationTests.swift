import StampedeApp
import StampedeConfiguration
import StampedeInventory
import Testing

@Suite("stampede serve settings: flag, then environment, then default")
struct ServeConfigurationTests {
    func resolve(
        host: String? = nil,
        port: Int? = nil,
        dataDirectory: String? = nil,
        durability: String? = nil,
        logLevel: String? = nil,
        environment: [String: String] = [:]
    ) throws(ConfigurationError) -> ServeConfiguration {
        try ServeConfiguration(
            host: host,
            port: port,
            dataDirectory: dataDirectory,
            durability: durability,
            logLevel: logLevel,
            environment: environment
        )
    }

    @Test func defaultsApplyWhenNothingIsSet() throws {
        let settings = try resolve()
        #expect(settings == ServeConfiguration())
        #expect(settings.host == "127.0.0.1")
        #expect(settings.port == 8080)
        #expect(settings.dataDirectory == "./stampede-data")
        #expect(settings.durability == .sync)
    }

    @Test func environmentOverridesDefaultsAndFlagsOverrideEnvironment() throws {
        let environment = [
            "STAMPEDE_HOST": "0.0.0.0", "STAMPEDE_PORT": "9000", "STAMPEDE_DATA_DIR": "/var/lib/stampede",
            "STAMPEDE_DURABILITY": "ASYNC", "STAMPEDE_LOG_LEVEL": "debug",
        ]
        let fromEnvironment = try resolve(environment: environment)
        #expect(fromEnvironment.host == "0.0.0.0")
        #expect(fromEnvironment.port == 9000)
        #expect(fromEnvironment.dataDirectory == "/var/lib/stampede")
        #expect(fromEnvironment.durability == .async)
        #expect(fromEnvironment.logLevel == "debug")
        let fromFlags = try resolve(host: "::1", port: 0, durability: "sync", environment: environment)
        #expect(fromFlags.host == "::1")
        #expect(fromFlags.port == 0)
        #expect(fromFlags.durability == .sync)
    }

    @Test func badValuesNameTheSetting() {
        #expect(throws: ConfigurationError.self) { try resolve(environment: ["STAMPEDE_PORT": "eighty"]) }
        #expect(throws: ConfigurationError.self) { try resolve(port: 70_000) }
        #expect(throws: ConfigurationError.self) { try resolve(durability: "sometimes") }
        #expect(throws: ConfigurationError.self) { try resolve(logLevel: "loud") }
        #expect(throws: ConfigurationError.self) { try resolve(dataDirectory: "") }
        do {
            _ = try resolve(environment: ["STAMPEDE_PORT": "eighty"])
        } catch {
            #expect(error.setting == "STAMPEDE_PORT")
        }
    }

    @Test func redisSettingsComeFromFlagsThenEnvironmentThenDefaults() throws {
        let defaults = try resolve()
        #expect(defaults.redisURL == nil)
        #expect(defaults.redisConnections == 4 && defaults.redisTimeoutMilliseconds == 1000)
        #expect(defaults.redisKeyPrefix == "stampede:" && defaults.redisCoalescedCalls == 2)
        #expect(defaults.soldOutCacheMilliseconds == 100 && defaults.deductFastPath)
        let environment = [
            "STAMPEDE_REDIS_URL": "redis://r:6379/1", "STAMPEDE_REDIS_CONNECTIONS": "8",
            "STAMPEDE_REDIS_TIMEOUT_MS": "250", "STAMPEDE_REDIS_PREFIX": "shop:", "STAMPEDE_REDIS_COALESCED_CALLS": "2",
            "STAMPEDE_SOLD_OUT_CACHE_MS": "0", "STAMPEDE_DEDUCT_FAST_PATH": "off",
        ]
        let fromEnvironment = try resolve(environment: environment)
        #expect(fromEnvironment.redisURL == "redis://r:6379/1" && fromEnvironment.redisConnections == 8)
        #expect(fromEnvironment.redisTimeoutMilliseconds == 250 && fromEnvironment.redisKeyPrefix == "shop:")
        #expect(fromEnvironment.redisCoalescedCalls == 2 && fromEnvironment.soldOutCacheMilliseconds == 0)
        #expect(!fromEnvironment.deductFastPath)
        let fromFlags = try ServeConfiguration(
            host: nil,
            port: nil,
            dataDirectory: nil,
            durability: nil,
            logLevel: nil,
            redisURL: "redis://other/2",
            redisConnections: 1,
            soldOutCacheMilliseconds: 50,
            deductFastPath: true,
            environment: environment
        )
        #expect(fromFlags.redisURL == "redis://other/2" && fromFlags.redisConnections == 1)
        #expect(fromFlags.soldOutCacheMilliseconds == 50 && fromFlags.redisTimeoutMilliseconds == 250)
        #expect(fromFlags.deductFastPath)
    }

    @Test(arguments: [
        ["STAMPEDE_REDIS_CONNECTIONS": "0"], ["STAMPEDE_REDIS_CONNECTIONS": "many"],
        ["STAMPEDE_REDIS_TIMEOUT_MS": "0"], ["STAMPEDE_REDIS_PREFIX": ""], ["STAMPEDE_SOLD_OUT_CACHE_MS": "-1"],
        ["STAMPEDE_REDIS_COALESCED_CALLS": "65"], ["STAMPEDE_DEDUCT_FAST_PATH": "sometimes"],
    ])
    func outOfRangeRedisSettingsAreRejected(environment: [String: String]) {
        #expect(throws: ConfigurationError.self) { try resolve(environment: environment) }
    }
}
