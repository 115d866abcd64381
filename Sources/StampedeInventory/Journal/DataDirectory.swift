import DequeModule
import Logging
import StampedeJournal

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
/// rename), empties the journal and hands it to a `JournalWriter`. Records carry sequence numbers so a crash
/// between the rename and the truncation replays nothing twice. The framing, the lock and the journal's replay
/// (sequence check, torn tail) are StampedeJournal's; what the records mean, and the snapshot, are the inventory's.
///
/// With a ledger, the journal is also its queue: records not yet acknowledged by the ledger worker are kept in
/// the snapshot's pending section (format 2) with their sequence numbers, so compaction never drops them, followed
/// by the trace context records of those that came from sampled requests.
struct DataDirectory {
    static let snapshotMagic: UInt64 = 0x5354_4D50_534E_4150  // "STMPSNAP"
    static let formatVersion: UInt64 = 2

    let path: String
    let logger: Logger
    private var directoryLock: DirectoryLock?

    var snapshotPath: String { path + "/snapshot.bin" }
    var journalPath: String { path + "/journal.log" }

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// Creates the directory if needed and takes an exclusive lock on it (`data_directory_unavailable` if another
    /// process holds it).
    mutating func lock() throws(InventoryStoreError) {
        do throws(JournalError) {
            directoryLock = try DirectoryLock(directory: path)
        } catch {
            throw InventoryStoreError(error)
        }
    }

    func unlock() {
        directoryLock?.release()
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
        var reader = JournalFrameReader<JournalRecord>(fd: fd, path: snapshotPath)
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

    /// Replays the journal on top of the snapshot; the journal drops a torn tail and refuses gaps and corruption.
    private func replayJournal(
        into engine: inout InventoryEngine,
        backlog: inout LedgerBacklog?,
        after snapshotSeq: UInt64
    ) throws -> UInt64 {
        try JournalFrameReader<JournalRecord>.replay(journalAtPath: journalPath, after: snapshotSeq, logger: logger) {
            seq,
            record in
            try engine.replay(record)
            guard backlog != nil else { return }
            if case .ledgerAcknowledged(let through) = record {
                backlog!.acknowledge(through: through)
            } else if case .traceContext(let entrySeq, let traceParent) = record {
                backlog!.attach(traceParent: traceParent, toSeq: entrySeq)
            } else if let event = LedgerEvent(record: record, engine: engine) {
                backlog!.append(seq: seq, event: event, traceParent: nil)
            }
        }
    }

    private func writeFile(_ filePath: String, bytes: [UInt8]) throws(InventoryStoreError) {
        do {
            try DurableFiles.writeFile(atPath: filePath, bytes: bytes)
        } catch {
            throw InventoryStoreError(.storageFailed, context: "cannot write the snapshot", underlying: error)
        }
    }

    private func syncDirectory() throws(InventoryStoreError) {
        do {
            try DurableFiles.syncDirectory(atPath: path)
        } catch {
            throw InventoryStoreError(.storageFailed, context: "cannot sync the data directory", underlying: error)
        }
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
