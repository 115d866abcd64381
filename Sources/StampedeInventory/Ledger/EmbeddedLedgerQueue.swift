import StampedeJournal

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The ledger queue of the embedded store: its journal. Entries are the journal records the ledger has not
/// acknowledged; an acknowledgement is itself a journal record, so the queue survives restarts and compaction.
///
/// Dead letters go to `ledger-dead-letters.jsonl` in the data directory, one JSON object per line. The file is
/// bounded: a line that would take it past `deadLetterBytesMax` first renames it to `ledger-dead-letters.1.jsonl`
/// (replacing the one before), so the newest dead letters are kept, as the Redis dead-letter stream is trimmed.
public struct EmbeddedLedgerQueue: LedgerQueue {
    public static let defaultDeadLetterBytesMax = 64 << 20

    let store: EmbeddedInventoryStore
    let dataDirectory: String
    let deadLetterPath: String
    let deadLetterBytesMax: Int

    public init(
        store: EmbeddedInventoryStore,
        dataDirectory: String,
        deadLetterBytesMax: Int = EmbeddedLedgerQueue.defaultDeadLetterBytesMax
    ) {
        precondition(store.hasLedger, "the store was opened without a ledger backlog")
        precondition(deadLetterBytesMax > 0, "the dead-letter file needs room")
        self.store = store
        self.dataDirectory = dataDirectory
        self.deadLetterPath = dataDirectory + "/ledger-dead-letters.jsonl"
        self.deadLetterBytesMax = deadLetterBytesMax
    }

    /// Where the older dead letters go when the file is full.
    var previousDeadLetterPath: String { dataDirectory + "/ledger-dead-letters.1.jsonl" }

    public func next(max: Int, wait: Duration) async throws -> [LedgerEntry] {
        let clock = ContinuousClock()
        let deadline = clock.now + wait
        while true {
            let entries = store.ledgerEntries(max: max)
            if !entries.isEmpty || clock.now >= deadline { return entries }
            try await Task.sleep(for: .milliseconds(20))
        }
    }

    public func acknowledge(_ entries: [LedgerEntry]) async throws {
        guard let last = entries.compactMap({ UInt64($0.id) }).max() else { return }
        try store.acknowledgeLedger(through: last)
    }

    public func deadLetter(_ entry: LedgerEntry, reason: String) async throws {
        var line = "{\"id\":" + JSONText.quoted(entry.id) + ",\"kind\":" + JSONText.quoted(entry.event.kind)
        line += ",\"sku\":" + JSONText.quoted(entry.event.sku) + ",\"entry\":" + JSONText.quoted("\(entry.event)")
        line += ",\"reason\":" + JSONText.quoted(reason) + "}\n"
        var info = stat()
        let exists = stat(deadLetterPath, &info) == 0
        // An empty file is never rotated: that would replace the older letters with nothing.
        let rotates = exists && info.st_size > 0 && Int(info.st_size) + line.utf8.count > deadLetterBytesMax
        if rotates {
            guard rename(deadLetterPath, previousDeadLetterPath) == 0 else {
                throw SystemCallError(call: "rename", path: deadLetterPath, errno: errno)
            }
        }
        let fd = open(deadLetterPath, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard fd >= 0 else {
            throw SystemCallError(call: "open", path: deadLetterPath, errno: errno)
        }
        defer { Glibc.close(fd) }
        let bytes = Array(line.utf8)
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        guard written == bytes.count, fsync(fd) == 0 else {
            throw SystemCallError(call: "write", path: deadLetterPath, errno: errno)
        }
        // A new file or a rename is durable only once the directory is: the acknowledgement that follows must
        // not outlive the letter after a power cut.
        if rotates || !exists { try DurableFiles.syncDirectory(atPath: dataDirectory) }
        // The batch's acknowledgement covers this entry's sequence number.
    }

    public func depth() async throws -> LedgerQueueDepth {
        store.ledgerDepth
    }
}

/// Minimal JSON string quoting for dead-letter lines.
enum JSONText {
    static func quoted(_ text: String) -> String {
        var out = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let hex = String(scalar.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(scalar)
                }
            }
        }
        return out + "\""
    }
}
