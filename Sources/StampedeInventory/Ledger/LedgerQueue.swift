/// The durable queue between the hot store and the ledger: the embedded journal, or a Redis stream.
///
/// Entries stay in the queue until ``acknowledge(_:)``: a worker that dies mid-batch leaves them for the next
/// read (its own restart, or another worker claiming them). The writer is idempotent, so a redelivered entry
/// is harmless.
public protocol LedgerQueue: Sendable {
    /// Up to `max` entries, oldest first, waiting at most `wait` when none is ready. Entries returned before and
    /// not yet acknowledged may come back (after a restart, or when claimed from a stopped worker).
    func next(max: Int, wait: Duration) async throws -> [LedgerEntry]
    /// Removes entries whose batch committed.
    func acknowledge(_ entries: [LedgerEntry]) async throws
    /// Moves an entry the ledger refuses out of the queue into a dead-letter store, with the reason.
    func deadLetter(_ entry: LedgerEntry, reason: String) async throws
    /// How far behind the ledger is.
    func depth() async throws -> LedgerQueueDepth
    /// Lets go of what reads hold between calls (a connection); a later read takes it again.
    func close() async
}

extension LedgerQueue {
    public func close() async {}
}

/// Entries in the queue (delivered or not) and how old the oldest is.
public struct LedgerQueueDepth: Sendable, Hashable {
    public var entries: Int
    /// Milliseconds since 1970 of the oldest entry, nil when the queue is empty.
    public var oldestTimestampMilliseconds: Int64?

    public init(entries: Int, oldestTimestampMilliseconds: Int64?) {
        self.entries = entries
        self.oldestTimestampMilliseconds = oldestTimestampMilliseconds
    }
}
