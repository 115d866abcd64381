#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads the frames of a file in chunks, stopping at the end or at the first frame that does not check out.
public struct JournalFrameReader<Record: JournalRecordCodec> {
    public struct Frame {
        public var seq: UInt64
        public var record: Record
    }

    public enum Stop: Equatable, Sendable {
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
    public private(set) var offset = 0

    /// Reads from `fd`, open for reading at the first frame; the caller keeps ownership of it. `path` names it in
    /// errors.
    public init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    /// The next frame, or nil with the reason reading stopped. Throws when the file cannot be read, or when a
    /// frame checks out but its payload does not decode (never a torn write: that is corruption).
    public mutating func next() throws(JournalError) -> (Frame?, Stop?) {
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
        let decoded: Result<Frame, JournalError>? = buffer.withUnsafeBytes { raw in
            let checked = UnsafeRawBufferPointer(rebasing: raw[(bufferStart + 8)..<(bufferStart + total)])
            guard CRC32.checksum(checked) == crc else { return nil }
            let seq: UInt64 = load(at: 8)
            let payload = UnsafeRawBufferPointer(rebasing: raw[(bufferStart + 16)..<(bufferStart + total)])
            do throws(JournalError) {
                let record = try Record.decode(payload)
                return .success(Frame(seq: seq, record: record))
            } catch {
                return .failure(error)
            }
        }
        guard let decoded else { return (nil, .badFrame(offset: offset, reason: "checksum mismatch")) }
        let frame: Frame
        switch decoded {
        case .success(let decodedFrame): frame = decodedFrame
        case .failure(let error): throw error
        }
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
    private mutating func fill(_ count: Int) throws(JournalError) -> Bool {
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
                let readErrno = errno
                buffer.removeLast(chunk)
                if readErrno == EINTR { continue }
                throw JournalError(
                    .readFailed,
                    context: "cannot read the file",
                    underlying: SystemCallError(call: "read", path: path, errno: readErrno)
                )
            }
            buffer.removeLast(chunk - readBytes)
            if readBytes == 0 { eof = true }
        }
        return available >= count
    }
}
