#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Framing of journal and snapshot files: `[u32 length][u32 crc32][u64 seq][payload]`, little endian.
///
/// `length` counts the payload; the CRC covers `seq` and the payload, so a torn or bit-flipped frame is detected.
enum JournalFrame {
    static let headerBytes = 16
    /// No record comes close: ids are bounded, so a larger length means a torn or corrupt frame.
    static let payloadBytesMax = 4096

    /// Appends one framed record to `bytes`.
    static func append(_ record: JournalRecord, seq: UInt64, to bytes: inout [UInt8]) {
        let start = bytes.count
        bytes.append(contentsOf: repeatElement(0, count: 8))
        bytes.appendInteger(seq)
        record.encode(into: &bytes)
        let payloadBytes = bytes.count - start - headerBytes
        precondition(payloadBytes <= payloadBytesMax, "records are bounded by the id limits")
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

/// Reads the frames of a file in chunks, stopping at the end or at the first frame that does not check out.
struct JournalFrameReader {
    struct Frame {
        var seq: UInt64
        var record: JournalRecord
    }

    enum Stop: Equatable {
        /// The file ended on a frame boundary.
        case cleanEnd
        /// A frame at `offset` is incomplete or fails its check (a torn tail, or corruption).
        case badFrame(offset: Int, reason: String)
    }

    private let fd: Int32
    private let path: String
    private var buffer: [UInt8] = []
    private var bufferStart = 0
    private var eof = false
    /// File offset of the next frame.
    private(set) var offset = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// The next frame, or nil with the reason reading stopped.
    mutating func next() throws -> (Frame?, Stop?) {
        guard try fill(JournalFrame.headerBytes) else {
            return (nil, available == 0 ? .cleanEnd : .badFrame(offset: offset, reason: "truncated header"))
        }
        let length: UInt32 = load(at: 0)
        let crc: UInt32 = load(at: 4)
        guard length <= JournalFrame.payloadBytesMax else {
            return (nil, .badFrame(offset: offset, reason: "impossible length \(length)"))
        }
        let total = JournalFrame.headerBytes + Int(length)
        guard try fill(total) else { return (nil, .badFrame(offset: offset, reason: "truncated payload")) }
        let frame: Frame? = try buffer.withUnsafeBytes { raw in
            let checked = UnsafeRawBufferPointer(rebasing: raw[(bufferStart + 8)..<(bufferStart + total)])
            guard CRC32.checksum(checked) == crc else { return nil }
            let seq: UInt64 = load(at: 8)
            let payload = UnsafeRawBufferPointer(rebasing: raw[(bufferStart + 16)..<(bufferStart + total)])
            return Frame(seq: seq, record: try JournalRecord.decode(payload))
        }
        guard let frame else { return (nil, .badFrame(offset: offset, reason: "checksum mismatch")) }
        bufferStart += total
        offset += total
        return (frame, nil)
    }

    private var available: Int { buffer.count - bufferStart }

    private func load<T: FixedWidthInteger>(at position: Int) -> T {
        var value = T.zero
        buffer.withUnsafeBytes { raw in
            withUnsafeMutableBytes(of: &value) {
                $0.copyMemory(
                    from: UnsafeRawBufferPointer(
                        rebasing: raw[(bufferStart + position)..<(bufferStart + position + MemoryLayout<T>.size)]
                    )
                )
            }
        }
        return T(littleEndian: value)
    }

    /// Ensures `count` bytes are buffered; false when the file ends first.
    private mutating func fill(_ count: Int) throws -> Bool {
        let chunk = 1 << 20
        while available < count && !eof {
            if bufferStart > 0 {
                buffer.removeFirst(bufferStart)
                bufferStart = 0
            }
            let oldCount = buffer.count
            buffer.append(contentsOf: repeatElement(0, count: chunk))
            let readBytes = buffer.withUnsafeMutableBytes { raw in
                read(fd, raw.baseAddress! + oldCount, chunk)
            }
            if readBytes < 0 {
                buffer.removeLast(chunk)
                if errno == EINTR { continue }
                throw SystemCallError(call: "read", path: path, errno: errno)
            }
            buffer.removeLast(chunk - readBytes)
            if readBytes == 0 { eof = true }
        }
        return available >= count
    }
}
