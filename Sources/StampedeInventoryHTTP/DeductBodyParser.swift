import NIOCore
import StampedeHTTPKit

/// A fast path for the one body on the hot path: `{"sku":…,"user_id":…,"order_id":…,"amount":…}`.
///
/// It accepts only the plain form (the four keys once each, in any order, strings without escapes, an integer
/// amount) and returns nil for anything else, which then goes through `JSONDecoder` for the same result or a
/// precise error. So it can only make valid requests faster, never change an answer.
enum DeductBodyParser {
    static func parse(_ buffer: ByteBuffer) -> DeductBody? {
        buffer.withUnsafeReadableBytes { bytes in
            var parser = Cursor(bytes: bytes)
            return parser.parseDeduct()
        }
    }

    private struct Cursor {
        let bytes: UnsafeRawBufferPointer
        var index = 0

        mutating func parseDeduct() -> DeductBody? {
            var sku: String?
            var userID: String?
            var orderID: String?
            var amount: Int64?
            guard consume(UInt8(ascii: "{")) else { return nil }
            for position in 0..<4 {
                if position > 0 { guard consume(UInt8(ascii: ",")) else { return nil } }
                guard let key = rawString(), consume(UInt8(ascii: ":")) else { return nil }
                switch key {
                case "sku" where sku == nil: sku = string()
                case "user_id" where userID == nil: userID = string()
                case "order_id" where orderID == nil: orderID = string()
                case "amount" where amount == nil: amount = integer()
                default: return nil
                }
            }
            guard consume(UInt8(ascii: "}")) else { return nil }
            skipWhitespace()
            guard index == bytes.count, let sku, let userID, let orderID, let amount else { return nil }
            return DeductBody(sku: sku, userID: userID, orderID: orderID, amount: amount)
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func consume(_ byte: UInt8) -> Bool {
            skipWhitespace()
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        /// A key, compared as ASCII; nil on escapes or control characters.
        mutating func rawString() -> String? {
            guard let range = stringRange() else { return nil }
            return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        /// A string value; nil on escapes, control characters or invalid UTF-8.
        mutating func string() -> String? {
            guard let range = stringRange() else { return nil }
            return String(validating: UnsafeRawBufferPointer(rebasing: bytes[range]), as: UTF8.self)
        }

        mutating func stringRange() -> Range<Int>? {
            guard consume(UInt8(ascii: "\"")) else { return nil }
            let start = index
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    index += 1
                    return start..<(index - 1)
                }
                if byte == UInt8(ascii: "\\") || byte < 0x20 { return nil }
                index += 1
            }
            return nil
        }

        /// A JSON integer that fits Int64: optional minus, no leading zero, no fraction or exponent.
        mutating func integer() -> Int64? {
            skipWhitespace()
            var negative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") {
                negative = true
                index += 1
            }
            let start = index
            var value: Int64 = 0
            while index < bytes.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(bytes[index]) {
                let digit = Int64(bytes[index] - UInt8(ascii: "0"))
                let (times, overflow1) = value.multipliedReportingOverflow(by: 10)
                let (sum, overflow2) = times.addingReportingOverflow(digit)
                guard !overflow1, !overflow2 else { return nil }
                value = sum
                index += 1
            }
            let digits = index - start
            guard digits > 0, digits == 1 || bytes[start] != UInt8(ascii: "0") else { return nil }
            if index < bytes.count {
                switch bytes[index] {
                case UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"): return nil
                default: break
                }
            }
            return negative ? -value : value
        }
    }
}
