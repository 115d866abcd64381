#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating failure of an order store: the disk, the database, or data that does not read back.
public struct OrderStoreError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        let value: String
        public static let storageFailed = Code(value: "storage_failed")
        public static let corrupted = Code(value: "corrupted")
        /// The store holds its maximum of orders.
        public static let capacityExhausted = Code(value: "capacity_exhausted")
        public static let unavailable = Code(value: "store_unavailable")
        public var description: String { value }
    }

    public var code: Code
    public var context: String
    public var underlying: (any Error)?

    public init(_ code: Code, context: String, underlying: (any Error)? = nil) {
        self.code = code
        self.context = context
        self.underlying = underlying
    }

    init(_ code: Code, context: String, errno: Int32) {
        self.init(code, context: context + ": " + String(cString: strerror(errno)))
    }

    public var description: String { "order store error: \(code)" }

    public var debugDescription: String {
        var text = "order store error: \(code): \(context)"
        if let underlying { text += " (\(String(reflecting: underlying)))" }
        return text
    }
}
