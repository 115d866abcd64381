import Logging

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The files of an embedded store: `LOCK`, `snapshot.bin` and `journal.log`.
///
/// Start-up recovers the state from the snapshot and the journal, writes a new snapshot of it (atomically, by
/// rename), empties the journal and hands it to a ``JournalWriter``. Records carry sequence numbers so a crash
/// between the rename and the truncation replays nothing twice.
///
/// With a ledger, the journal is also its queue: records not yet acknowledged by the ledger worker are kept in
/// the snapshot's pending section (format 2) with their sequence numbers, so compaction never drops them, followed
/// by the trace context records of those that came from sampled requests.
struct DataDirectory {
    static let snapshotMagic: UInt64 = 0x5354_4D50_534E_4150  // "STMPSNAP"
    static let formatVersion: UInt64 = 2

    let path: String
    let logger: Logger
    private var lockFD: Int32 = -1

    var snapshotPath: String { path + "/snapshot.bin" }
    var journalPath: String { path + "/journal.log" }

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// Creates the directory if needed and takes an exclusive lock on it.
    mutating func lock() throws(InventoryStoreError) {
        if mkdir(path, 0o755) != 0 && errno != EEXIST {
            throw unavailable("cannot create the data directory", call: "mkdir", path: path)
        }
        let fd = open(path + "/LOCK", O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw unavailable("cannot open the lock file", call: "open", path: path + "/LOCK") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            let error = unavailable("another process uses this data directory", call: "flock", path: path + "/LOCK")
            Glibc.close(fd)
            throw error
        }
        lockFD = fd
    }

    func unlock() {
        if lockFD >= 0 { Glibc.close(lockFD) }
    }

    /// Rebuilds the engine (and the ledger backlog, when there is a ledger) from disk and returns the last
    /// sequence number seen.
    func recover(
        into engine: inout InventoryEngine,
        backlog: inout LedgerBacklog?
    ) throws(InventoryStoreError) -> UInt64 {
        var lastSeq: UInt64 = 0
        do {
            lastSeq = try loadSnapshot(into: &engine, backlog: &backlog)
            lastSeq = try replayJournal(into: &engine, backlog: &backlog, after: lastSeq)
        } catch let error as InventoryStoreError {
            throw error
        } catch {
            throw InventoryStoreError(.corrupted, context: "recovery of \(path) failed", underlying: error)
        }
        return lastSeq
    }

    /// Whether start-up must write a snapshot: the journal holds records, or there is no snapshot yet.
    /// Skipping it when nothing changed keeps restarts of a large store from rewriting it every time.
    var needsCompaction: Bool {
        var info = stat()
        guard stat(snapshotPath, &info) == 0 else { return true }
        guard stat(journalPath, &info) == 0 else { return false }
        return info.st_size > 0
    }

    /// Writes the state (and the ledger entries still owed) as a new snapshot, then empties the journal.
    func compact(_ engine: InventoryEngine, lastSeq: UInt64, backlog: LedgerBacklog?) throws(InventoryStoreError) {
        let records = engine.snapshotRecords()
        let pending = backlog?.pending ?? []
        let traceRecords = backlog?.traceRecords ?? []
        var bytes: [UInt8] = []
        bytes.reserveCapacity(64 + (records.count + pending.count) * 96)
        bytes.appendInteger(Self.snapshotMagic)
        bytes.appendInteger(Self.formatVersion)
        bytes.appendInteger(lastSeq)
        bytes.appendInteger(UInt64(records.count))
        bytes.appendInteger(backlog?.acknowledgedSeq ?? lastSeq)
        bytes.appendInteger(UInt64(pending.count + traceRecords.count))
        for record in records { JournalFrame.append(record, seq: 0, to: &bytes) }
        for entry in pending { JournalFrame.append(entry.event.record, seq: entry.seq, to: &bytes) }
        for record in traceRecords { JournalFrame.append(record, seq: 0, to: &bytes) }
        let temporary = snapshotPath + ".tmp"
        try writeFile(temporary, bytes: bytes)
        guard rename(temporary, snapshotPath) == 0 else {
            throw failed("cannot install the snapshot", call: "rename", path: snapshotPath)
        }
        try syncDirectory()
        let fd = open(journalPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failed("cannot truncate the journal", call: "open", path: journalPath) }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw failed("cannot sync the journal", call: "fsync", path: journalPath) }
        try syncDirectory()
    }

    /// Opens the (empty, compacted) journal for appending.
    func openJournal() throws(InventoryStoreError) -> Int32 {
        let fd = open(journalPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw unavailable("cannot open the journal", call: "open", path: journalPath) }
        return fd
    }

    private func loadSnapshot(into engine: inout InventoryEngine, backlog: inout LedgerBacklog?) throws -> UInt64 {
        let fd = open(snapshotPath, O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return 0 }
            throw SystemCallError(call: "open", path: snapshotPath, errno: errno)
        }
        defer { Glibc.close(fd) }
        var header = [UInt8](repeating: 0, count: 32)
        let headerRead = header.withUnsafeMutableBytes { read(fd, $0.baseAddress!, 32) }
        guard headerRead == 32 else { throw InventoryStoreError(.corrupted, context: "snapshot header is short") }
        let fields: [UInt64] = (0..<4).map { index in
            header.withUnsafeBytes { raw in
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))
            }
        }
        guard fields[0] == Self.snapshotMagic, fields[1] == 1 || fields[1] == Self.formatVersion else {
            throw InventoryStoreError(.corrupted, context: "\(snapshotPath) is not a snapshot of this version")
        }
        // Format 2 adds the ledger's acknowledged sequence number and its pending section.
        var acknowledgedSeq = fields[2]
        var pendingCount: UInt64 = 0
        if fields[1] == 2 {
            var ledgerHeader = [UInt8](repeating: 0, count: 16)
            let read = ledgerHeader.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, 16) }
            guard read == 16 else { throw InventoryStoreError(.corrupted, context: "snapshot header is short") }
            ledgerHeader.withUnsafeBytes { raw in
                acknowledgedSeq = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
                pendingCount = UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self))
            }
        }
        var reader = JournalFrameReader(fd: fd, path: snapshotPath)
        var count: UInt64 = 0
        var pending: [(UInt64, JournalRecord)] = []
        while true {
            let (frame, stop) = try reader.next()
            guard let frame else {
                guard stop == .cleanEnd, count == fields[3] + pendingCount else {
                    throw InventoryStoreError(
                        .corrupted,
                        context: "snapshot is incomplete: \(String(describing: stop))"
                    )
                }
                break
            }
            if count < fields[3] {
                try engine.replay(frame.record)
            } else {
                pending.append((frame.seq, frame.record))
            }
            count += 1
        }
        let pendingEntries = pending.count { if case .traceContext = $0.1 { false } else { true } }
        if backlog != nil {
            backlog!.acknowledge(through: acknowledgedSeq)
            for (seq, record) in pending {
                if case .traceContext(let entrySeq, let traceParent) = record {
                    backlog!.attach(traceParent: traceParent, toSeq: entrySeq)
                    continue
                }
                guard let event = LedgerEvent(record: record, engine: engine) else {
                    throw InventoryStoreError(
                        .corrupted,
                        context: "snapshot ledger entry \(seq) names an unknown order"
                    )
                }
                backlog!.append(seq: seq, event: event, traceParent: nil)
            }
        } else if !pending.isEmpty {
            // They stay in the snapshot until the journal is next compacted (this start, if it holds records).
            logger.warning(
                "no ledger is configured: ignoring ledger entries it never received; the next compaction drops them",
                metadata: ["entries": "\(pendingEntries)"]
            )
        }
        logger.info(
            "loaded snapshot",
            metadata: ["records": "\(fields[3])", "seq": "\(fields[2])", "ledger_pending": "\(pendingEntries)"]
        )
        return fields[2]
    }

    private func replayJournal(
        into engine: inout InventoryEngine,
        backlog: inout LedgerBacklog?,
        after snapshotSeq: UInt64
    ) throws -> UInt64 {
        let fd = open(journalPath, O_RDWR | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT { return snapshotSeq }
            throw SystemCallError(call: "open", path: journalPath, errno: errno)
        }
        defer { Glibc.close(fd) }
        var reader = JournalFrameReader(fd: fd, path: journalPath)
        var lastSeq = snapshotSeq
        var replayed = 0
        while true {
            let (frame, stop) = try reader.next()
            guard let frame else {
                if case .badFrame(let offset, let reason) = stop {
                    try dropTornTail(fd: fd, offset: offset, reason: reason, lastSeq: lastSeq)
                }
                break
            }
            if frame.seq <= snapshotSeq { continue }
            guard frame.seq == lastSeq + 1 else {
                throw InventoryStoreError(.corrupted, context: "journal jumps from seq \(lastSeq) to \(frame.seq)")
            }
            try engine.replay(frame.record)
            if backlog != nil {
                if case .ledgerAcknowledged(let through) = frame.record {
                    backlog!.acknowledge(through: through)
                } else if case .traceContext(let entrySeq, let traceParent) = frame.record {
                    backlog!.attach(traceParent: traceParent, toSeq: entrySeq)
                } else if let event = LedgerEvent(record: frame.record, engine: engine) {
                    backlog!.append(seq: frame.seq, event: event, traceParent: nil)
                }
            }
            lastSeq = frame.seq
            replayed += 1
        }
        logger.info("replayed journal", metadata: ["records": "\(replayed)", "seq": "\(lastSeq)"])
        return lastSeq
    }

    /// A crash mid-write leaves at most one unfinished group commit at the tail, with no valid frame after the
    /// bad one. A valid frame further on, or more bytes than one group commit writes, means corruption of
    /// acknowledged data: refuse to start rather than drop it.
    private func dropTornTail(fd: Int32, offset: Int, reason: String, lastSeq: UInt64) throws {
        let size = Int(lseek(fd, 0, SEEK_END))
        let dropped = size - offset
        guard dropped <= JournalWriter.defaultPendingBytesMax + (1 << 20) else {
            throw InventoryStoreError(
                .corrupted,
                context: "journal frame at offset \(offset) is bad (\(reason)) with \(dropped) bytes after it"
            )
        }
        var tail = [UInt8](repeating: 0, count: dropped)
        let readBytes = tail.withUnsafeMutableBytes { pread(fd, $0.baseAddress!, dropped, off_t(offset)) }
        guard readBytes == dropped else { throw SystemCallError(call: "pread", path: journalPath, errno: errno) }
        if let found = JournalFrame.firstValidFrame(in: tail, after: 1, seqAbove: lastSeq) {
            throw InventoryStoreError(
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
            throw SystemCallError(call: "ftruncate", path: journalPath, errno: errno)
        }
    }

    private func writeFile(_ filePath: String, bytes: [UInt8]) throws(InventoryStoreError) {
        let fd = open(filePath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw failed("cannot write the snapshot", call: "open", path: filePath) }
        defer { Glibc.close(fd) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw failed("cannot write the snapshot", call: "write", path: filePath)
            }
            written += result
        }
        guard fsync(fd) == 0 else { throw failed("cannot sync the snapshot", call: "fsync", path: filePath) }
    }

    private func syncDirectory() throws(InventoryStoreError) {
        do {
            try Self.syncDirectory(at: path)
        } catch {
            throw InventoryStoreError(.storageFailed, context: "cannot sync the data directory", underlying: error)
        }
    }

    /// Makes the directory's entries (files created, renamed or removed in it) durable.
    static func syncDirectory(at path: String) throws(SystemCallError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(call: "open", path: path, errno: errno) }
        defer { Glibc.close(fd) }
        guard fsync(fd) == 0 else { throw SystemCallError(call: "fsync", path: path, errno: errno) }
    }

    private func unavailable(_ context: String, call: String, path: String) -> InventoryStoreError {
        InventoryStoreError(
            .dataDirectoryUnavailable,
            context: context,
            underlying: SystemCallError(call: call, path: path, errno: errno)
        )
    }

    private func failed(_ context: String, call: String, path: String) -> InventoryStoreError {
        InventoryStoreError(
            .storageFailed,
            context: context,
            underlying: SystemCallError(call: call, path: path, errno: errno)
        )
    }
}
