/// A setting with a value that cannot work; names the setting (its flag or its environment variable).
public struct ConfigurationError: Error, CustomStringConvertible, Equatable {
    public var setting: String
    public var reason: String

    public init(_ setting: String, _ reason: String) {
        self.setting = setting
        self.reason = reason
    }

    public var description: String { "invalid setting \(setting): \(reason)" }
}
