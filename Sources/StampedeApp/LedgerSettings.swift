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
        if let value = postgresURL ?? environment["STAMPEDE_POSTGRES_URL"], !value.isEmpty {
            do {
                _ = try PostgresLedgerConfiguration(url: value)
            } catch {
                throw ConfigurationError("postgres", error.description)
            }
            self.postgresURL = value
        }
        self.runsWorker = try ConfigurationError.boolean(
            runsWorker,
            environment,
            "STAMPEDE_LEDGER_WORKER",
            default: true
        )
        self.backlogMax = try ConfigurationError.integer(
            backlogMax,
            environment,
            "STAMPEDE_LEDGER_BACKLOG_MAX",
            "ledger-backlog-max",
            1...100_000_000,
            default: 1_000_000
        )
        self.batchMax = try ConfigurationError.integer(
            batchMax,
            environment,
            "STAMPEDE_LEDGER_BATCH",
            "ledger-batch",
            1...4096,
            default: 1000
        )
        self.lingerMilliseconds = try ConfigurationError.integer(
            lingerMilliseconds,
            environment,
            "STAMPEDE_LEDGER_LINGER_MS",
            "ledger-linger-ms",
            0...10_000,
            default: 50
        )
        if let value = workerName ?? environment["STAMPEDE_WORKER_NAME"] {
            guard !value.isEmpty, value.utf8.count <= 128 else {
                throw ConfigurationError("worker-name", "must be 1 to 128 bytes")
            }
            self.workerName = value
        }
        self.claimIdleMilliseconds = try ConfigurationError.integer(
            claimIdleMilliseconds,
            environment,
            "STAMPEDE_LEDGER_CLAIM_IDLE_MS",
            "ledger-claim-idle-ms",
            100...3_600_000,
            default: 30_000
        )
        self.reconcileIntervalSeconds = try ConfigurationError.integer(
            reconcileIntervalSeconds,
            environment,
            "STAMPEDE_RECONCILE_INTERVAL_S",
            "reconcile-interval-s",
            0...86_400,
            default: 60
        )
    }
}
