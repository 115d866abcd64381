import StampedeCLI
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
}
