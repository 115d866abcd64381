import NIOCore

/// Reads RESP3 and RESP2 values from a byte buffer, one complete value at a time.
///
/// ``parse(_:)`` returns nil and consumes nothing until a whole value has arrived, so frames split across reads
/// are handled by calling it again with more bytes. Every length, count and nesting depth is bounded: a
/// malformed or hostile stream throws ``RESPParseError`` instead of allocating without limit.
public struct RESPParser: Sendable {
    public struct Limits: Sendable, Hashable {
        /// Longest bulk string, in bytes (Redis itself caps values at 512 MiB).
        public var bulkBytesMax: Int
        /// Most elements of one array, set, map or push.
        public var elementsMax: Int
        /// Deepest nesting of aggregates.
        public var depthMax: Int
        /// Longest line of a simple value (simple string, error, number).
        public var lineBytesMax: Int

        public init(
            bulkBytesMax: Int = 64 * 1024 * 1024,
            elementsMax: Int = 1_048_576,
            depthMax: Int = 32,
            lineBytesMax: Int = 64 * 1024
        ) {
            self.bulkBytesMax = bulkBytesMax
            self.elementsMax = elementsMax
            self.depthMax = depthMax
            self.lineBytesMax = lineBytesMax
        }
    }

    public let limits: Limits

    public init(limits: Limits = Limits()) {
        self.limits = limits
    }

    /// The next complete value, or nil when more bytes are needed (the buffer is then left unchanged).
    public func parse(_ buffer: inout ByteBuffer) throws(RESPParseError) -> RESPValue? {
        var copy = buffer
        while true {
            guard let value = try parseValue(&copy, depth: 0) else { return nil }
            buffer = copy
            // An attribute annotates the value after it; Stampede has no use for it.
            if case .attributeMarker = value { continue }
            return value.value
        }
    }

    /// A parsed value, or the marker that an attribute was skipped.
    private enum Parsed {
        case value(RESPValue)
        case attributeMarker

        var value: RESPValue {
            if case .value(let value) = self { return value }
            return .null
        }
    }

    private func parseValue(_ buffer: inout ByteBuffer, depth: Int) throws(RESPParseError) -> Parsed? {
        guard depth <= limits.depthMax else { throw RESPParseError(.tooDeep, "nesting deeper than \(limits.depthMax)") }
        guard let type = buffer.readInteger(as: UInt8.self) else { return nil }
        switch type {
        case UInt8(ascii: "+"):
            guard let line = try readLine(&buffer) else { return nil }
            return .value(.simpleString(line))
        case UInt8(ascii: "-"):
            guard let line = try readLine(&buffer) else { return nil }
            return .value(.error(line))
        case UInt8(ascii: ":"):
            guard let line = try readLine(&buffer) else { return nil }
            guard let value = Int64(line) else { throw RESPParseError(.badNumber, "integer '\(line.prefix(32))'") }
            return .value(.integer(value))
        case UInt8(ascii: "$"), UInt8(ascii: "="), UInt8(ascii: "!"):
            guard let length = try readLength(&buffer) else { return nil }
            guard length >= 0 else {
                guard type == UInt8(ascii: "$") else { throw RESPParseError(.badLength, "negative blob length") }
                return .value(.null)
            }
            guard length <= limits.bulkBytesMax else {
                throw RESPParseError(.tooLarge, "bulk of \(length) bytes exceeds \(limits.bulkBytesMax)")
            }
            guard buffer.readableBytes >= length + 2 else { return nil }
            var bytes = buffer.readSlice(length: length)!
            guard buffer.readInteger(as: UInt16.self) == 0x0D0A else {
                throw RESPParseError(.missingTerminator, "bulk string not followed by CRLF")
            }
            if type == UInt8(ascii: "!") { return .value(.error(String(buffer: bytes))) }
            if type == UInt8(ascii: "=") {
                // Verbatim: three format bytes and a colon precede the text.
                guard bytes.readableBytes >= 4 else { throw RESPParseError(.badLength, "verbatim string too short") }
                bytes.moveReaderIndex(forwardBy: 4)
            }
            return .value(.bulkString(bytes))
        case UInt8(ascii: "*"), UInt8(ascii: "~"), UInt8(ascii: ">"):
            guard let count = try readLength(&buffer) else { return nil }
            guard count >= 0 else {
                guard type == UInt8(ascii: "*") else { throw RESPParseError(.badLength, "negative aggregate count") }
                return .value(.null)
            }
            guard let values = try readElements(&buffer, count: count, depth: depth) else { return nil }
            switch type {
            case UInt8(ascii: "~"): return .value(.set(values))
            case UInt8(ascii: ">"): return .value(.push(values))
            default: return .value(.array(values))
            }
        case UInt8(ascii: "%"), UInt8(ascii: "|"):
            guard let count = try readLength(&buffer) else { return nil }
            guard count >= 0, count <= limits.elementsMax / 2 else {
                throw RESPParseError(.badLength, "map of \(count) entries")
            }
            guard let values = try readElements(&buffer, count: count * 2, depth: depth) else { return nil }
            if type == UInt8(ascii: "|") { return .attributeMarker }
            var pairs: [RESPPair] = []
            pairs.reserveCapacity(count)
            for index in stride(from: 0, to: values.count, by: 2) {
                pairs.append(RESPPair(key: values[index], value: values[index + 1]))
            }
            return .value(.map(pairs))
        case UInt8(ascii: "_"):
            guard let line = try readLine(&buffer) else { return nil }
            guard line.isEmpty else { throw RESPParseError(.badNull, "null with payload") }
            return .value(.null)
        case UInt8(ascii: "#"):
            guard let line = try readLine(&buffer) else { return nil }
            switch line {
            case "t": return .value(.boolean(true))
            case "f": return .value(.boolean(false))
            default: throw RESPParseError(.badBoolean, "boolean '\(line.prefix(8))'")
            }
        case UInt8(ascii: ","):
            guard let line = try readLine(&buffer) else { return nil }
            switch line {
            case "inf": return .value(.double(.infinity))
            case "-inf": return .value(.double(-.infinity))
            case "nan": return .value(.double(.nan))
            default:
                guard let value = Double(line) else { throw RESPParseError(.badNumber, "double '\(line.prefix(32))'") }
                return .value(.double(value))
            }
        case UInt8(ascii: "("):
            guard let line = try readLine(&buffer) else { return nil }
            guard !line.isEmpty, line.utf8.dropFirst(line.hasPrefix("-") ? 1 : 0).allSatisfy({ $0 >= 48 && $0 <= 57 })
            else { throw RESPParseError(.badNumber, "big number '\(line.prefix(32))'") }
            return .value(.bigNumber(line))
        default:
            throw RESPParseError(.unknownType, "unknown type byte 0x\(String(type, radix: 16))")
        }
    }

    private func readElements(_ buffer: inout ByteBuffer, count: Int, depth: Int) throws(RESPParseError) -> [RESPValue]?
    {
        guard count <= limits.elementsMax else {
            throw RESPParseError(.tooLarge, "aggregate of \(count) elements exceeds \(limits.elementsMax)")
        }
        var values: [RESPValue] = []
        // Reserve no more than the bytes present could hold: a count alone must not allocate.
        values.reserveCapacity(min(count, buffer.readableBytes / 3 + 1))
        while values.count < count {
            guard let parsed = try parseValue(&buffer, depth: depth + 1) else { return nil }
            if case .value(let value) = parsed { values.append(value) }
        }
        return values
    }

    /// A line up to CRLF, without it; nil when the CRLF has not arrived yet.
    private func readLine(_ buffer: inout ByteBuffer) throws(RESPParseError) -> String? {
        let view = buffer.readableBytesView
        guard let cr = view.firstIndex(of: 0x0D) else {
            guard view.count <= limits.lineBytesMax else {
                throw RESPParseError(.tooLarge, "line longer than \(limits.lineBytesMax) bytes")
            }
            return nil
        }
        let length = cr - view.startIndex
        guard length <= limits.lineBytesMax else {
            throw RESPParseError(.tooLarge, "line longer than \(limits.lineBytesMax) bytes")
        }
        guard buffer.readableBytes >= length + 2 else { return nil }
        let line = buffer.readString(length: length)!
        guard buffer.readInteger(as: UInt8.self) == 0x0D, buffer.readInteger(as: UInt8.self) == 0x0A else {
            throw RESPParseError(.missingTerminator, "CR not followed by LF")
        }
        return line
    }

    private func readLength(_ buffer: inout ByteBuffer) throws(RESPParseError) -> Int? {
        guard let line = try readLine(&buffer) else { return nil }
        guard line.utf8.count <= 20, let value = Int(line), value >= -1 else {
            throw RESPParseError(.badLength, "length '\(line.prefix(32))'")
        }
        return value
    }
}

/// A byte stream that is not valid RESP, or that breaks a parser limit. The connection cannot continue.
public struct RESPParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case unknownType = "unknown_type"
        case badLength = "bad_length"
        case badNumber = "bad_number"
        case badBoolean = "bad_boolean"
        case badNull = "bad_null"
        case missingTerminator = "missing_terminator"
        case tooLarge = "too_large"
        case tooDeep = "too_deep"
    }

    public var code: Code
    public var context: String

    init(_ code: Code, _ context: String) {
        self.code = code
        self.context = context
    }

    public var description: String { "malformed RESP (\(code.rawValue)): \(context)" }
}
