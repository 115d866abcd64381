/// An amount of money in integer minor units (cents, fen) with its ISO 4217 currency: never a float.
public struct Money: Sendable, Hashable, Codable {
    public var amountMinor: Int64
    /// Three capital letters, e.g. `CNY`, `USD`.
    public var currency: String

    public init(amountMinor: Int64, currency: String) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    /// Whether `currency` has the shape of an ISO 4217 code (three ASCII capital letters).
    public static func isCurrencyCode(_ currency: String) -> Bool {
        currency.utf8.count == 3 && currency.utf8.allSatisfy { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }
    }
}
