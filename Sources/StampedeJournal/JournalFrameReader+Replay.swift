import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension JournalFrameReader {
    /// Reads a journal file back at start-up: calls `apply` with every record whose sequence number is above
    /// `snapshotSeq`, in order, and returns the last sequence number (`snapshotSeq` when the file is missing or
    /// holds nothing newer). Records at or below `snapshotSeq` are skipped: a crash between installing a snapshot
    /// and emptying the journal leaves them in both.
    ///
    /// A bad frame at the end is a torn tail and is cut off (see below). A gap in the sequence numbers, or a bad
    /// frame that cannot be a torn tail, throws ``JournalError/Code-swift.struct/corrupted``; errors of `apply`
    /// are rethrown as they are.
    public static func replay(
        journalAtPath path: String,
        after snapshotSeq: UInt64,
        logger: Logger,
        _ apply: (_ seq: UInt64, _ record: Record) throws -> Void
    ) throws -> UInt64 {
        let fd = open(path, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return snapshotSeq }
            throw JournalError.systemCall(.readFailed, "cannot open the journal", call: "open", path: path)
        }
        defer { close(fd) }
        var reader = JournalFrameReader(fd: fd, path: path)
        var lastSeq = snapshotSeq
        var replayed = 0
        while true {
            let (frame, stop) = try reader.next()
            guard let frame else {
                if case .badFrame(let offset, let reason) = stop {
                    try dropTornTail(
                        fd: fd,
                        path: path,
                        offset: offset,
                        reason: reason,
                        lastSeq: lastSeq,
                        logger: logger
                    )
                }
                break
            }
            if frame.seq <= snapshotSeq { continue }
            guard frame.seq == lastSeq + 1 else {
                throw JournalError(.corrupted, context: "journal jumps from seq \(lastSeq) to \(frame.seq)")
            }
            try apply(frame.seq, frame.record)
            lastSeq = frame.seq
            replayed += 1
        }
        logger.info("replayed journal", metadata: ["records": "\(replayed)", "seq": "\(lastSeq)"])
        return lastSeq
    }

    /// A crash mid-write leaves at most one unfinished group commit at the tail, with no valid frame after the
    /// bad one: never acknowledged, so it is cut off with a warning. A valid frame further on, or more bytes than
    /// one group commit writes, means corruption of acknowledged data: refuse rather than drop it.
    private static func dropTornTail(
        fd: Int32,
        path: String,
        offset: Int,
        reason: String,
        lastSeq: UInt64,
        logger: Logger
    ) throws(JournalError) {
        let size = Int(lseek(fd, 0, SEEK_END))
        guard size > offset else {
            throw JournalError.systemCall(.readFailed, "cannot find the journal's end", call: "lseek", path: path)
        }
        let dropped = size - offset
        guard dropped <= JournalWriter.defaultPendingBytesMax + (1 << 20) else {
            throw JournalError(
                .corrupted,
                context: "journal frame at offset \(offset) is bad (\(reason)) with \(dropped) bytes after it"
            )
        }
        var tail = [UInt8](repeating: 0, count: dropped)
        let readBytes = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, dropped, off_t(offset)) }
        guard readBytes == dropped else {
            throw JournalError.systemCall(.readFailed, "cannot read the journal's tail", call: "pread", path: path)
        }
        if let found = JournalFrame.firstValidFrame(in: tail, after: 1, seqAbove: lastSeq) {
            throw JournalError(
                .corrupted,
                context:
                    "journal frame at offset \(offset) is bad (\(reason)) but a valid frame follows at \(offset + found)"
            )
        }
        logger.warning(
            "dropping the torn tail of the journal (never acknowledged)",
            metadata: ["offset": "\(offset)", "bytes": "\(dropped)", "reason": "\(reason)"]
        )
        guard ftruncate(fd, off_t(offset)) == 0, fsync(fd) == 0 else {
            throw JournalError.systemCall(
                .writeFailed,
                "cannot cut the journal's torn tail",
                call: "ftruncate",
                path: path
            )
        }
    }
}
