/// One setting, declared once: its flag, its environment variable, its default and what it does.
///
/// The command line's `--help` (``help``), the parsing (`resolve`) and, through a test that compares the two, the
/// README's configuration table all come from this one declaration.
public struct Setting<Value: Sendable>: Sendable {
    /// The long flag, without its dashes (`ledger-batch`); also names the setting in a range error.
    public let flag: String
    /// The environment variable read when the flag is not given.
    public let variable: String
    /// What the setting does, for `--help`.
    public let summary: String
    /// The default as a person reads it (`8080`, `on`, `unset (…)`).
    public let defaultDescription: String
    private let parse: @Sendable (_ text: String) -> Value?
    private let check: @Sendable (_ value: Value) -> String?
    private let defaultValue: Value?

    /// `Env: VARIABLE. Default: …` after the summary, as every option's help says it.
    public var help: String { "\(summary) Env: \(variable). Default: \(defaultDescription)." }

    /// The flag if given, else the variable, else the default (nil for a setting without one); checked.
    public func resolve(_ flagValue: Value?, _ environment: [String: String]) throws(ConfigurationError) -> Value? {
        var value = defaultValue
        if let flagValue {
            value = flagValue
        } else if let text = environment[variable] {
            guard let parsed = parse(text) else { throw ConfigurationError(variable, "'\(text)' is not \(kind)") }
            value = parsed
        }
        if let value, let problem = check(value) { throw ConfigurationError(flag, problem) }
        return value
    }

    private var kind: String {
        Value.self == Bool.self ? "true or false" : Value.self == Int.self ? "a number" : "valid"
    }
}

extension Setting where Value == Int {
    /// An integer within `range`, with a default.
    public static func integer(
        _ flag: String,
        _ variable: String,
        default defaultValue: Int,
        _ range: ClosedRange<Int>,
        _ summary: String
    ) -> Setting {
        Setting(
            flag: flag,
            variable: variable,
            summary: summary,
            defaultDescription: "\(defaultValue)",
            parse: { Int($0) },
            check: { range.contains($0) ? nil : "must be from \(range.lowerBound) to \(range.upperBound)" },
            defaultValue: defaultValue
        )
    }

    /// The flag, else the variable, else the default; always within range.
    public func value(_ flagValue: Int?, _ environment: [String: String]) throws(ConfigurationError) -> Int {
        // An integer setting always has a default.
        try resolve(flagValue, environment)!
    }
}

extension Setting where Value == Bool {
    /// A yes/no setting (`1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off` in the environment).
    public static func boolean(
        _ flag: String,
        _ variable: String,
        default defaultValue: Bool,
        _ summary: String
    )
        -> Setting
    {
        Setting(
            flag: flag,
            variable: variable,
            summary: summary,
            defaultDescription: defaultValue ? "on" : "off",
            parse: { text in
                switch text.lowercased() {
                case "1", "true", "yes", "on": true
                case "0", "false", "no", "off": false
                default: nil
                }
            },
            check: { _ in nil },
            defaultValue: defaultValue
        )
    }

    public func value(_ flagValue: Bool?, _ environment: [String: String]) throws(ConfigurationError) -> Bool {
        try resolve(flagValue, environment)!
    }
}

extension Setting where Value == String {
    /// A text setting; `check` names what is wrong with a value, nil when it is fine. Its value is nil when neither
    /// the flag nor the variable gives one: the owner keeps its default (`defaultDescription` says what it is).
    public static func text(
        _ flag: String,
        _ variable: String,
        default defaultDescription: String,
        _ summary: String,
        check: @escaping @Sendable (String) -> String? = { _ in nil }
    ) -> Setting {
        Setting(
            flag: flag,
            variable: variable,
            summary: summary,
            defaultDescription: defaultDescription,
            parse: { $0 },
            check: check,
            defaultValue: nil
        )
    }
}
