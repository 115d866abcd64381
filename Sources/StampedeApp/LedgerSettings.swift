import Foundation
import StampedeConfiguration
import StampedeLedger

/// The ledger settings shared by `serve` and `worker`: each from its flag, else its `STAMPEDE_*` variable, else
/// the default.
public struct LedgerSettings: Sendable, Equatable {
    /// `--postgres` / `STAMPEDE_POSTGRES_URL`: when set, every sale is written behind to this ledger.
    public var postgresURL: String?
    /// `--[no-]ledger-worker` / `STAMPEDE_LEDGER_WORKER`, default on: `serve` runs the worker in-process.
    public var runsWorker = true
    /// `--ledger-backlog-max` / `STAMPEDE_LEDGER_BACKLOG_MAX`, default 1,000,000: queued entries before writes
    /// are refused with `ledger_backlog_full`.
    public var backlogMax = 1_000_000
    /// `--ledger-batch` / `STAMPEDE_LEDGER_BATCH`, default 1000: entries per transaction.
    public var batchMax = 1000
    /// `--ledger-linger-ms` / `STAMPEDE_LEDGER_LINGER_MS`, default 50 (0 = none): after a batch that was not full,
    /// the worker waits this long from its read before reading again, so entries gather into larger batches.
    public var lingerMilliseconds = 50
    /// `--worker-name` / `STAMPEDE_WORKER_NAME`, default the host name: the consumer name in Redis mode.
    public var workerName = ProcessInfo.processInfo.hostName
    /// `--ledger-claim-idle-ms` / `STAMPEDE_LEDGER_CLAIM_IDLE_MS`, default 30000: entries another worker left
    /// pending this long are taken over.
    public var claimIdleMilliseconds = 30_000
    /// `--reconcile-interval-s` / `STAMPEDE_RECONCILE_INTERVAL_S`, default 60 (0 = off): how often drift metrics
    /// are refreshed.
    public var reconcileIntervalSeconds = 60

    public init() {}

    /// Each ledger setting, declared once: flag, variable, default and help (``Setting``).
    public enum Settings {
        public static let postgresURL = Setting.text(
            "postgres",
            "STAMPEDE_POSTGRES_URL",
            default: "unset (no ledger)",
            "Write every sale, release and item reset behind to this PostgreSQL ledger: "
                + "postgres://user[:password]@host[:port]/database"
                + "[?sslmode=disable|prefer|require|verify-ca|verify-full]."
        )
        public static let runsWorker = Setting.boolean(
            "ledger-worker",
            "STAMPEDE_LEDGER_WORKER",
            default: true,
            "Run the ledger worker in this process (serve only)."
        )
        public static let backlogMax = Setting.integer(
            "ledger-backlog-max",
            "STAMPEDE_LEDGER_BACKLOG_MAX",
            default: 1_000_000,
            1...100_000_000,
            "Entries queued for the ledger before writes are refused with 503 ledger_backlog_full."
        )
        public static let batchMax = Setting.integer(
            "ledger-batch",
            "STAMPEDE_LEDGER_BATCH",
            default: 1000,
            1...4096,
            "Entries per ledger transaction."
        )
        public static let lingerMilliseconds = Setting.integer(
            "ledger-linger-ms",
            "STAMPEDE_LEDGER_LINGER_MS",
            default: 50,
            0...10_000,
            "After a ledger batch that was not full, milliseconds from its read to the next read, so entries gather "
                + "into larger batches (0: read again at once)."
        )
        public static let workerName = Setting.text(
            "worker-name",
            "STAMPEDE_WORKER_NAME",
            default: "the host name",
            "Consumer name of this worker (Redis mode).",
            check: { $0.isEmpty || $0.utf8.count > 128 ? "must be 1 to 128 bytes" : nil }
        )
        public static let claimIdleMilliseconds = Setting.integer(
            "ledger-claim-idle-ms",
            "STAMPEDE_LEDGER_CLAIM_IDLE_MS",
            default: 30_000,
            100...3_600_000,
            "Take over ledger entries another worker left unacknowledged this long (Redis mode)."
        )
        public static let reconcileIntervalSeconds = Setting.integer(
            "reconcile-interval-s",
            "STAMPEDE_RECONCILE_INTERVAL_S",
            default: 60,
            0...86_400,
            "Seconds between reconciliations that refresh the ledger drift metrics (0: off)."
        )
    }

    public init(
        postgresURL: String?,
        runsWorker: Bool?,
        backlogMax: Int?,
        batchMax: Int?,
        lingerMilliseconds: Int?,
        workerName: String?,
        claimIdleMilliseconds: Int?,
        reconcileIntervalSeconds: Int?,
        environment: [String: String]
    ) throws(ConfigurationError) {
        self.init()
        if let value = try Settings.postgresURL.resolve(postgresURL, environment), !value.isEmpty {
            do {
                _ = try PostgresLedgerConfiguration(url: value)
            } catch {
                throw ConfigurationError("postgres", error.description)
            }
            self.postgresURL = value
        }
        self.runsWorker = try Settings.runsWorker.value(runsWorker, environment)
        self.backlogMax = try Settings.backlogMax.value(backlogMax, environment)
        self.batchMax = try Settings.batchMax.value(batchMax, environment)
        self.lingerMilliseconds = try Settings.lingerMilliseconds.value(lingerMilliseconds, environment)
        if let value = try Settings.workerName.resolve(workerName, environment) { self.workerName = value }
        self.claimIdleMilliseconds = try Settings.claimIdleMilliseconds.value(claimIdleMilliseconds, environment)
        self.reconcileIntervalSeconds = try Settings.reconcileIntervalSeconds.value(
            reconcileIntervalSeconds,
            environment
        )
    }
}
