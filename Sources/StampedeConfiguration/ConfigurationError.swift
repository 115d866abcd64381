extension ConfigurationError {
    /// An integer setting: the flag, else the variable, else `default`; always within `range`.
    public static func integer(
        _ flag: Int?,
        _ environment: [String: String],
        _ variable: String,
        _ name: String,
        _ range: ClosedRange<Int>,
        default defaultValue: Int
    ) throws(ConfigurationError) -> Int {
        var value = defaultValue
        if let flag {
            value = flag
        } else if let text = environment[variable] {
            guard let parsed = Int(text) else { throw ConfigurationError(variable, "'\(text)' is not a number") }
            value = parsed
        }
        guard range.contains(value) else {
            throw ConfigurationError(name, "must be from \(range.lowerBound) to \(range.upperBound)")
        }
        return value
    }

    /// A yes/no setting: the flag if given, else the variable (`1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`).
    public static func boolean(
        _ flag: Bool?,
        _ environment: [String: String],
        _ variable: String,
        default defaultValue: Bool
    ) throws(ConfigurationError) -> Bool {
        if let flag { return flag }
        guard let text = environment[variable] else { return defaultValue }
        switch text.lowercased() {
        case "1", "true", "yes", "on": return true
        case "0", "false", "no", "off": return false
        default: throw ConfigurationError(variable, "'\(text)' is not true or false")
        }
    }
}

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
