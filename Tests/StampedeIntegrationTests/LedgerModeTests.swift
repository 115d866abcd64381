import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import StampedeRedis
import StampedeTesting
import Synchronization
import Testing

/// The real binary with a PostgreSQL ledger: outages of PostgreSQL, a worker killed mid-batch, reconciliation.
@Suite("Ledger mode of the real binary", .serialized)
struct LedgerModeTests {
    /// Deducts with unique order ids from `tasks` concurrent loops until `stop` is set; records every 200. A 503
    /// (store or ledger unavailable, or a timeout whose outcome is unknown) is retried with the same order id.
    static func load(
        _ client: JSONClient,
        tasks: Int,
        acknowledged: Acknowledged,
        stop: StopFlag
    ) async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                group.addTask {
                    var index = 0
                    while !stop.isSet {
                        let order = "t\(task)-\(index)"
                        let (status, json) = try await client.deduct(sku: "HOT", user: order, order: order)
                        if status != 503 { index += 1 }
                        switch status {
                        case 200: acknowledged.orders.withLock { $0[order] = 1 }
                        case 503: try await Task.sleep(for: .milliseconds(20))
                        default: Issue.record("unexpected status \(status) \(json)")
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
    }

    /// Waits until the ledger holds `count` sales (or the timeout), then returns the order ids it holds.
    static func ledgerOrders(
        _ postgres: PostgresServerProcess,
        expecting count: Int,
        timeout: Duration
    ) async throws -> Set<String> {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if (Int(try postgres.psql("SELECT count(*) FROM sales")) ?? 0) >= count { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        return Set(try postgres.psql("SELECT order_id FROM sales").split(separator: "\n").map(String.init))
    }

    @Test func salesAcknowledgedWhilePostgresIsDownFor30SecondsAllReachTheLedgerOnce() async throws {
        let postgres = try await PostgresServerProcess.start()
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let instance = try await StampedeProcess.start(
            dataDirectory: directory.path,
            extraArguments: ["--postgres", postgres.url, "--reconcile-interval-s", "0"]
        )
        let acknowledged = Acknowledged()
        try await withHTTPClient(connections: 8) { http in
            let client = JSONClient(http: http, baseURL: instance.baseURL)
            #expect(try await client.createItem("HOT", stock: 10_000_000) == 201)
            let stop = StopFlag()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.load(client, tasks: 8, acknowledged: acknowledged, stop: stop) }
                group.addTask {
                    try await Task.sleep(for: .seconds(2))
                    try await postgres.stopServer()
                    let before = acknowledged.orders.withLock { $0.count }
                    try await Task.sleep(for: .seconds(30))
                    let during = acknowledged.orders.withLock { $0.count } - before
                    #expect(during > 0, "the sale goes on while PostgreSQL is down")
                    try await postgres.startServer()
                    try await Task.sleep(for: .seconds(2))
                    stop.set()
                }
                try await group.waitForAll()
            }
        }
        let acked = Set(acknowledged.orders.withLock { $0.keys })
        let inLedger = try await Self.ledgerOrders(postgres, expecting: acked.count, timeout: .seconds(90))
        #expect(acked.count > 1000)
        #expect(
            inLedger == acked,
            """
            missing \(acked.subtracting(inLedger).count), unexpected \(inLedger.subtracting(acked).count); \
            server log: \(instance.log.suffix(4000))
            """
        )
        #expect(Int(try postgres.psql("SELECT count(*) FROM sales")) == acked.count, "each sale once")
        let lagged = try postgres.psql("SELECT count(*) FROM sales WHERE recorded_at - sold_at > interval '20 seconds'")
        #expect((Int(lagged) ?? 0) > 0, "sales made during the outage were written after it")
        // The journal is the queue: a burst while PostgreSQL is down again, SIGKILL, restart both, and the burst
        // arrives from the journal alone.
        try await postgres.stopServer()
        try await withHTTPClient(connections: 8) { http in
            let client = JSONClient(http: http, baseURL: instance.baseURL)
            for index in 0..<200 {
                let order = "late-\(index)"
                if try await client.deduct(sku: "HOT", user: order, order: order).status == 200 {
                    acknowledged.orders.withLock { $0[order] = 1 }
                }
            }
        }
        _ = try await instance.stop(signal: SIGKILL)
        try await postgres.startServer()
        let restarted = try await StampedeProcess.start(
            dataDirectory: directory.path,
            extraArguments: ["--postgres", postgres.url, "--reconcile-interval-s", "0"]
        )
        let all = Set(acknowledged.orders.withLock { $0.keys })
        let finalLedger = try await Self.ledgerOrders(postgres, expecting: all.count, timeout: .seconds(60))
        #expect(finalLedger == all)
        #expect(try await restarted.stop(signal: SIGTERM) == 0)
        await postgres.destroy()
    }

    @Test func aWorkerKilledMidBatchAndRestartedLosesAndDuplicatesNothingAndReconcileRepairsDrift() async throws {
        let redis = try await RedisServerProcess.start()
        let postgres = try await PostgresServerProcess.start()
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let instance = try await StampedeProcess.start(
            dataDirectory: directory.path,
            extraArguments: ["--redis", redis.url, "--postgres", postgres.url, "--no-ledger-worker"]
        )
        let workerArguments = [
            "--redis", redis.url, "--postgres", postgres.url, "--worker-name", "w1", "--ledger-batch", "200",
            "--reconcile-interval-s", "1",
        ]
        let worker = ProcessBox(
            try await StampedeProcess.start(subcommand: "worker", dataDirectory: "", extraArguments: workerArguments)
        )
        let acknowledged = Acknowledged()
        try await withHTTPClient(connections: 8) { http in
            let client = JSONClient(http: http, baseURL: instance.baseURL)
            #expect(try await client.createItem("HOT", stock: 10_000_000) == 201)
            let stop = StopFlag()
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await Self.load(client, tasks: 8, acknowledged: acknowledged, stop: stop) }
                group.addTask {
                    try await Task.sleep(for: .seconds(3))
                    _ = try await worker.current.stop(signal: SIGKILL)
                    try await Task.sleep(for: .seconds(1))
                    worker.current = try await StampedeProcess.start(
                        subcommand: "worker",
                        dataDirectory: "",
                        extraArguments: workerArguments
                    )
                    try await Task.sleep(for: .seconds(3))
                    stop.set()
                }
                try await group.waitForAll()
            }
            let (status, metrics) = try await JSONClient(http: http, baseURL: worker.current.baseURL).sendText(
                "/metrics"
            )
            #expect(status == 200 && metrics.contains("ledger_queue_depth"))
        }
        let acked = Set(acknowledged.orders.withLock { $0.keys })
        let inLedger = try await Self.ledgerOrders(postgres, expecting: acked.count, timeout: .seconds(60))
        #expect(acked.count > 500)
        #expect(
            inLedger == acked,
            "missing \(acked.subtracting(inLedger).count), unexpected \(inLedger.subtracting(acked).count)"
        )
        #expect(Int(try postgres.psql("SELECT count(*) FROM sales")) == acked.count)

        // Reconciliation: in sync, then Redis loses 5 sales, then repaired from the ledger.
        let reconcile = ["reconcile", "--redis", redis.url, "--postgres", postgres.url]
        #expect(try runStampede(reconcile).status == 0)
        let redisClient = try RedisClient(
            configuration: try RedisConfiguration(url: redis.url),
            logger: .init(label: "test")
        )
        let sold = try #require(try await redisClient.send(RedisCommand("HGET", "stampede:item:HOT", "sold")).int64)
        _ = try await redisClient.send(
            RedisCommand("HSET", "stampede:item:HOT", "sold", "\(sold - 5)", "stock", "\(10_000_000 - sold + 5)")
        )
        let drifted = try runStampede(reconcile)
        #expect(drifted.status == 1)
        #expect(drifted.output.contains("HOT") && drifted.output.contains("drift"), "\(drifted.output)")
        let repaired = try runStampede(reconcile + ["--repair"])
        #expect(repaired.status == 0, "\(repaired.output)")
        #expect(try await redisClient.send(RedisCommand("HGET", "stampede:item:HOT", "sold")).int64 == sold)
        #expect(try runStampede(reconcile).status == 0)
        await redisClient.shutdown()
        #expect(try await worker.current.stop(signal: SIGTERM) == 0)
        #expect(try await instance.stop(signal: SIGTERM) == 0)
        await postgres.destroy()
        await redis.stop()
    }

    /// Runs the binary to completion; returns its exit status and everything it printed.
    func runStampede(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try StampedeProcess.binaryPath())
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("STAMPEDE_") }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }
}

extension JSONClient {
    /// `GET path` returning the body as text.
    func sendText(_ path: String) async throws -> (status: Int, text: String) {
        let response = try await http.execute(HTTPClientRequest(url: baseURL + path), timeout: .seconds(10))
        let bytes = try await response.body.collect(upTo: 8 << 20)
        return (Int(response.status.code), String(buffer: bytes))
    }
}

/// Tells load loops to stop.
final class StopFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .relaxed) }
    func set() { flag.store(true, ordering: .relaxed) }
}

/// A process that a test replaces while other tasks use it.
final class ProcessBox: Sendable {
    private let process: Mutex<StampedeProcess>
    init(_ process: StampedeProcess) { self.process = Mutex(process) }
    var current: StampedeProcess {
        get { process.withLock { $0 } }
        set { process.withLock { $0 = newValue } }
    }
}
