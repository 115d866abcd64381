import NIOCore

/// One value of the Redis serialization protocol, RESP3 or RESP2.
///
/// RESP2's null bulk string and null array both become ``null``; a verbatim string becomes ``bulkString``
/// without its format prefix; attributes are read and dropped by the parser.
public enum RESPValue: Sendable, Hashable {
    case simpleString(String)
    case bulkString(ByteBuffer)
    /// A simple or bulk error: the message starts with its code (`ERR`, `NOSCRIPT`, `WRONGTYPE`…).
    case error(String)
    case integer(Int64)
    case double(Double)
    case boolean(Bool)
    case bigNumber(String)
    case null
    case array([RESPValue])
    case set([RESPValue])
    /// Key-value pairs in the order the server sent them.
    case map([RESPPair])
    /// Out-of-band data (pub/sub messages, invalidations), never a reply to a command.
    case push([RESPValue])

    /// The text of a simple, bulk or verbatim string.
    public var string: String? {
        switch self {
        case .simpleString(let text): text
        case .bulkString(let buffer): String(buffer: buffer)
        default: nil
        }
    }

    /// An integer, or a string holding one (Redis returns numbers as strings in hashes).
    public var int64: Int64? {
        switch self {
        case .integer(let value): value
        case .simpleString(let text): Int64(text)
        case .bulkString(let buffer): Int64(String(buffer: buffer))
        default: nil
        }
    }

    /// The elements of an array, set or push; nil for anything else.
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): values
        default: nil
        }
    }

    /// The error message, when the value is an error reply.
    public var errorMessage: String? {
        if case .error(let message) = self { return message }
        return nil
    }

    public var isNull: Bool { self == .null }
}

/// One entry of a RESP3 map.
public struct RESPPair: Sendable, Hashable {
    public var key: RESPValue
    public var value: RESPValue

    public init(key: RESPValue, value: RESPValue) {
        self.key = key
        self.value = value
    }
}
