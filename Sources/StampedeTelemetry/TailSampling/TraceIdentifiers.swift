import Synchronization

/// A W3C trace id: 128 bits, kept as two integers; hex only where it crosses a process boundary.
struct TraceID: Hashable, Sendable {
    var high: UInt64
    var low: UInt64

    /// A new id, never all zero.
    static func random() -> TraceID {
        let high = TraceRandom.next()
        return TraceID(high: high, low: TraceRandom.next() | (high == 0 ? 1 : 0))
    }
}

/// The ids of spans and traces this process starts.
///
/// A splitmix64 sequence, seeded once from the system's random source: one relaxed atomic add and a few
/// multiplications per id, where `SystemRandomNumberGenerator` makes a `getrandom` system call per draw (the
/// largest single cost of the earlier design). Ids must be unique and evenly spread (the head ratio reads their
/// bits), not secret.
enum TraceRandom {
    private static let state = Atomic<UInt64>(UInt64.random(in: .min ... .max))

    /// The next value of the sequence; never zero.
    static func next() -> UInt64 {
        var z = state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return z == 0 ? 1 : z
    }
}

/// Lowercase hex, written straight into a string's storage.
enum Hex {
    private static let digits: StaticString = "0123456789abcdef"

    /// Writes `value` as 16 hex digits at `offset`; returns the offset after them.
    static func write(_ value: UInt64, into buffer: UnsafeMutableBufferPointer<UInt8>, at offset: Int) -> Int {
        digits.withUTF8Buffer { table in
            for index in 0..<16 {
                buffer[offset + index] = table[Int((value >> UInt64(60 - 4 * index)) & 0xF)]
            }
        }
        return offset + 16
    }

    static func string(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) {
            _ = write(value, into: $0, at: 0)
            return 16
        }
    }

    /// The value of 16 hex digits (either case) starting at `offset`; nil when one is not a hex digit.
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, at offset: Int, count: Int = 16) -> UInt64? {
        var value: UInt64 = 0
        for index in offset..<(offset + count) {
            let byte = bytes[index]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte &- UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte &- UInt8(ascii: "a") &+ 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte &- UInt8(ascii: "A") &+ 10
            default: return nil
            }
            value = value << 4 | UInt64(digit)
        }
        return value
    }
}
