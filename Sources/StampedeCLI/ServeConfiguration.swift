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

    public init() {}

    /// Resolves each setting: the flag if given, else the environment, else the default.
    public init(
        host: String?,
        port: Int?,
        dataDirectory: String?,
        durability: String?,
        logLevel: String?,
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
    }
}

/// A setting with a value that cannot work; names the setting.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var setting: String
    public var reason: String

    init(_ setting: String, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }

    public var description: String { "invalid setting \(setting): \(reason)" }
}
