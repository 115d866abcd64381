import Logging
import Synchronization

/// A log handler that keeps every message at or above its level, for tests that assert what was logged.
public struct RecordingLogHandler: LogHandler {
    public final class Records: Sendable {
        private let entries = Mutex<[(Logger.Level, String)]>([])

        public init() {}

        /// The messages logged at `level`.
        public func messages(at level: Logger.Level) -> [String] {
            entries.withLock { $0.filter { $0.0 == level }.map(\.1) }
        }

        func add(_ level: Logger.Level, _ message: String) {
            entries.withLock { $0.append((level, message)) }
        }
    }

    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    private let records: Records

    /// A logger whose messages at `level` and above land in `records`.
    public static func logger(_ records: Records, level: Logger.Level = .info) -> Logger {
        Logger(label: "recorded") { _ in RecordingLogHandler(records: records, logLevel: level) }
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
        records.add(event.level, event.message.description)
    }
}
