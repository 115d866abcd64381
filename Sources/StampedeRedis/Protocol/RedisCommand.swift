import NIOCore

/// One command, encoded once as a RESP array of bulk strings, ready to be written to any connection.
public struct RedisCommand: Sendable {
    /// The command name as sent (`EVALSHA`, `XADD`…), used for span names and errors.
    public let name: String
    /// The whole frame: `*N\r\n` then each argument as `$len\r\n…\r\n`.
    public let encoded: ByteBuffer

    public init(_ name: String, _ arguments: [RedisArgument] = []) {
        self.name = name
        var buffer = ByteBufferAllocator().buffer(capacity: 16 + name.utf8.count + arguments.count * 24)
        buffer.writeStaticString("*")
        buffer.writeDecimal(arguments.count + 1)
        buffer.writeStaticString("\r\n")
        Self.writeBulk(name, into: &buffer)
        for argument in arguments {
            switch argument {
            case .string(let text): Self.writeBulk(text, into: &buffer)
            case .integer(let value): Self.writeBulk(value, into: &buffer)
            case .bytes(let bytes):
                buffer.writeStaticString("$")
                buffer.writeDecimal(bytes.readableBytes)
                buffer.writeStaticString("\r\n")
                buffer.writeImmutableBuffer(bytes)
                buffer.writeStaticString("\r\n")
            }
        }
        self.encoded = buffer
    }

    public init(_ name: String, _ arguments: String...) {
        self.init(name, arguments.map { .string($0) })
    }

    private static func writeBulk(_ text: String, into buffer: inout ByteBuffer) {
        buffer.writeStaticString("$")
        buffer.writeDecimal(text.utf8.count)
        buffer.writeStaticString("\r\n")
        buffer.writeString(text)
        buffer.writeStaticString("\r\n")
    }

    private static func writeBulk(_ value: Int64, into buffer: inout ByteBuffer) {
        var digits = ByteBufferAllocator().buffer(capacity: 20)
        digits.writeDecimal(value)
        buffer.writeStaticString("$")
        buffer.writeDecimal(digits.readableBytes)
        buffer.writeStaticString("\r\n")
        buffer.writeBuffer(&digits)
        buffer.writeStaticString("\r\n")
    }
}

/// An argument of a command: text, raw bytes or an integer (sent as its decimal text).
public enum RedisArgument: Sendable, Hashable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case string(String)
    case bytes(ByteBuffer)
    case integer(Int64)

    public init(stringLiteral value: String) { self = .string(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }
}

extension ByteBuffer {
    /// Writes `value` as ASCII decimal digits without going through `String`.
    mutating func writeDecimal(_ value: Int) {
        writeDecimal(Int64(value))
    }

    mutating func writeDecimal(_ value: Int64) {
        if value < 0 { writeInteger(UInt8(ascii: "-")) }
        writeDecimalMagnitude(value.magnitude)
    }

    private mutating func writeDecimalMagnitude(_ magnitude: UInt64) {
        var divisor: UInt64 = 1
        while magnitude / divisor >= 10 { divisor *= 10 }
        var rest = magnitude
        while divisor > 0 {
            writeInteger(UInt8(ascii: "0") + UInt8(rest / divisor))
            rest %= divisor
            divisor /= 10
        }
    }
}
