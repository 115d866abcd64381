import Logging
import Synchronization

/// A log handler that keeps every message at or above its level, with its metadata, for tests that assert what was
/// logged.
public struct RecordingLogHandler: LogHandler {
    public final class Records: Sendable {
        public struct Entry: Sendable {
            public var level: Logger.Level
            public var message: String
            /// The logger's, the metadata provider's and the call's metadata, merged in that order.
            public var metadata: Logger.Metadata
        }

        private let entries = Mutex<[Entry]>([])

        public init() {}

        /// The messages logged at `level`.
        public func messages(at level: Logger.Level) -> [String] {
            entries(at: level).map(\.message)
        }

        /// What was logged at `level`, in order.
        public func entries(at level: Logger.Level) -> [Entry] {
            entries.withLock { $0.filter { $0.level == level } }
        }

        func add(_ entry: Entry) {
            entries.withLock { $0.append(entry) }
        }
    }

    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level
    private let records: Records

    /// A logger whose messages at `level` and above land in `records`.
    public static func logger(
        _ records: Records,
        level: Logger.Level = .info,
        metadataProvider: Logger.MetadataProvider? = nil
    ) -> Logger {
        Logger(label: "recorded") { _ in
            var handler = RecordingLogHandler(records: records, logLevel: level)
            handler.metadataProvider = metadataProvider
            return handler
        }
    }

    init(records: Records, logLevel: Logger.Level) {
        self.records = records
        self.logLevel = logLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let own = event.metadata { merged.merge(own) { _, new in new } }
        records.add(Records.Entry(level: event.level, message: event.message.description, metadata: merged))
    }
}
