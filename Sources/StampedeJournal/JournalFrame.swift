/// Framing of journal and snapshot files: `[u32 length][u32 crc32][u64 seq][payload]`, little endian.
///
/// `length` counts the payload; the CRC covers `seq` and the payload, so a torn or bit-flipped frame is detected.
public enum JournalFrame {
    public static let headerBytes = 16
    /// Records must stay well below this (their fields are bounded), so a larger length means a torn or corrupt
    /// frame. Part of the file format: the reader rejects longer frames.
    public static let payloadBytesMax = 4096

    /// Appends one framed record to `bytes`. Inlinable, so the record's encoding is called directly in the caller's
    /// specialization; the framing around it is not generic.
    @inlinable
    public static func append<Record: JournalRecordCodec>(_ record: Record, seq: UInt64, to bytes: inout [UInt8]) {
        let start = beginFrame(seq: seq, in: &bytes)
        record.encode(into: &bytes)
        endFrame(startingAt: start, in: &bytes)
    }

    /// Reserves a frame's header and writes its sequence number; returns where the frame starts.
    public static func beginFrame(seq: UInt64, in bytes: inout [UInt8]) -> Int {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 8))
        withUnsafeBytes(of: seq.littleEndian) { bytes.append(contentsOf: $0) }
        return start
    }

    /// Fills in the length and checksum of the frame that starts at `start`, once its payload is written.
    public static func endFrame(startingAt start: Int, in bytes: inout [UInt8]) {
        let payloadBytes = bytes.count - start - headerBytes
        precondition(payloadBytes <= payloadBytesMax, "a record's payload exceeds the frame limit")
        let crc = bytes.withUnsafeBytes { CRC32.checksum(UnsafeRawBufferPointer(rebasing: $0[(start + 8)...])) }
        withUnsafeBytes(of: UInt32(payloadBytes).littleEndian) { header in
            for index in 0..<4 { bytes[start + index] = header[index] }
        }
        withUnsafeBytes(of: crc.littleEndian) { header in
            for index in 0..<4 { bytes[start + 4 + index] = header[index] }
        }
    }
}

extension JournalFrame {
    /// The offset of the first frame in `bytes` at or after `start` whose checksum holds and whose sequence number
    /// lies just above `seqAbove`, or nil. Used to tell a torn tail (nothing valid after it) from corruption.
    static func firstValidFrame(in bytes: [UInt8], after start: Int, seqAbove: UInt64) -> Int? {
        bytes.withUnsafeBytes { raw in
            var offset = start
            while offset + headerBytes <= raw.count {
                defer { offset += 1 }
                let length = Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
                guard length <= payloadBytesMax, offset + headerBytes + length <= raw.count else { continue }
                let seq = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
                guard seq > seqAbove, seq <= seqAbove &+ 10_000_000 else { continue }
                let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
                let checked = UnsafeRawBufferPointer(rebasing: raw[(offset + 8)..<(offset + headerBytes + length)])
                if CRC32.checksum(checked) == crc { return offset }
            }
            return nil
        }
    }
}
