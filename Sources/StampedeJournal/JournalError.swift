#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An operating failure of a journal: it cannot take a record, cannot make one durable, or its files do not read
/// back consistently.
///
/// `description` names the code only; `debugDescription` carries the context and the underlying error for logs.
/// A domain answers these with its own error type (the inventory maps them onto `InventoryStoreError`).
public struct JournalError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    /// A stable code: a struct rather than an enum, so that codes can be added without breaking callers.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        /// A `write` or `fdatasync` of the journal failed. The writer has stopped for good (fail-stop): what is in
        /// memory may be ahead of the disk, and only a restart that recovers from the disk is safe.
        public static let writeFailed = Code("write_failed")
        /// More bytes wait for the disk than the writer's limit; retry later.
        public static let busy = Code("busy")
        /// The writer is closing or closed: it takes no more records, and those appended too late are never
        /// acknowledged.
        public static let closed = Code("closed")
        /// A journal or snapshot file could not be opened or read.
        public static let readFailed = Code("read_failed")
        /// The bytes on disk do not read back consistently: a malformed record, a gap in sequence numbers, or a
        /// bad frame that cannot be a torn tail.
        public static let corrupted = Code("corrupted")
        /// The directory cannot be created or opened, or another process holds its lock.
        public static let directoryUnavailable = Code("directory_unavailable")
        public var description: String { value }
    }

    public var code: Code
    /// What the journal was doing, for logs (file paths and offsets, never record contents).
    public var context: String
    /// The cause, usually a ``SystemCallError`` with its errno.
    public var underlying: (any Error)?

    public init(_ code: Code, context: String, underlying: (any Error)? = nil) {
        self.code = code
        self.context = context
        self.underlying = underlying
    }

    public var description: String { "journal error: \(code)" }

    public var debugDescription: String {
        var text = "journal error: \(code): \(context)"
        if let underlying { text += " (\(underlying))" }
        return text
    }
}

extension JournalError {
    /// An error caused by the system call that just failed; reads `errno`, so build it before any other call.
    static func systemCall(_ code: Code, _ context: String, call: String, path: String) -> JournalError {
        JournalError(code, context: context, underlying: SystemCallError(call: call, path: path, errno: errno))
    }
}
