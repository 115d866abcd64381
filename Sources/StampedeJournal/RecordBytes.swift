/// Helpers for record codecs: little-endian integers and length-prefixed strings in, the same out.

extension JournalError {
    /// A journal or snapshot payload that does not decode.
    public static func malformedRecord(_ reason: String) -> JournalError {
        JournalError(.corrupted, context: "malformed journal record: \(reason)")
    }
}

extension [UInt8] {
    public mutating func appendInteger<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { self.append(contentsOf: $0) }
    }

    /// A UTF-8 string after its length as a `UInt16`: strings in records are ids, bounded well below that.
    public mutating func appendString(_ value: String) {
        let count = value.utf8.count
        precondition(count <= Int(UInt16.max), "journal strings are bounded by the id limits")
        appendInteger(UInt16(count))
        append(contentsOf: value.utf8)
    }
}

/// Reads little-endian fields from a payload, failing on a short read.
public struct ByteReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var isAtEnd: Bool { offset == bytes.count }

    public mutating func readByte() throws(JournalError) -> UInt8 {
        guard offset < bytes.count else { throw JournalError.malformedRecord("short record") }
        defer { offset += 1 }
        return bytes[offset]
    }

    public mutating func readInteger<T: FixedWidthInteger>() throws(JournalError) -> T {
        let size = MemoryLayout<T>.size
        guard bytes.count - offset >= size else { throw JournalError.malformedRecord("short record") }
        var value = T.zero
        withUnsafeMutableBytes(of: &value) {
            $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + size]))
        }
        offset += size
        return T(littleEndian: value)
    }

    public mutating func readString() throws(JournalError) -> String {
        let count = Int(try readInteger() as UInt16)
        guard bytes.count - offset >= count else { throw JournalError.malformedRecord("short string") }
        defer { offset += count }
        return String(decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]), as: UTF8.self)
    }
}
