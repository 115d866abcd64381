/// A number that a Lua script and the Swift code reading its reply must agree on, written once: the script
/// declares it as a Lua local (``declaration``) and refers to it by ``name``; Swift compares replies with
/// ``value``.
public struct LuaConstant: Sendable, Hashable {
    /// The Lua identifier: capital ASCII letters, digits and underscores, e.g. `DEDUCT_ORDER_CONFLICT`.
    public let name: String
    public let value: Int64

    public init(_ name: String, _ value: Int64) {
        precondition(
            name.utf8.first.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") } == true
                && name.utf8.allSatisfy {
                    ($0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z"))
                        || ($0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9")) || $0 == UInt8(ascii: "_")
                },
            "a Lua constant's name is a capitalised identifier"
        )
        self.name = name
        self.value = value
    }

    /// `local NAME = value`.
    public var declaration: String { "local \(name) = \(value)" }

    /// One declaration a line, to open a script with.
    public static func declarations(_ constants: [LuaConstant]) -> String {
        precondition(Set(constants.map(\.name)).count == constants.count, "each constant is declared once")
        return constants.map(\.declaration).joined(separator: "\n")
    }
}
