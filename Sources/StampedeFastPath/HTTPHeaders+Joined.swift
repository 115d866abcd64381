import NIOHTTP1

extension HTTPHeaders {
    /// A field's values as HTTP types reads them (`HTTPFields`' subscript): joined by `, `; nil when absent.
    public func joined(_ name: String) -> String? {
        var joined: String?
        for (field, value) in self where field.utf8.elementsEqual(name.utf8, by: Self.sameLetterIgnoringCase) {
            joined = joined.map { $0 + ", " + value } ?? value
        }
        return joined
    }

    private static func sameLetterIgnoringCase(_ a: UInt8, _ b: UInt8) -> Bool {
        a == b || (a | 0x20 == b | 0x20 && (a | 0x20) >= UInt8(ascii: "a") && (a | 0x20) <= UInt8(ascii: "z"))
    }
}
