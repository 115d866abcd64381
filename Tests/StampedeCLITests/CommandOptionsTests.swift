import ArgumentParser
import Testing

@testable import StampedeCLI

@Suite("command options: every command that talks to Redis takes the pool options")
struct CommandOptionsTests {
    @Test func serveWorkerAndReconcileTakeTheRedisPoolOptions() throws {
        let options = ["--redis", "redis://127.0.0.1:6379/0", "--redis-connections", "8", "--redis-timeout-ms", "250"]
        let serve = try ServeCommand.parse(options)
        let worker = try WorkerCommand.parse(options + ["--postgres", "postgres://ledger@127.0.0.1/ledger"])
        let reconcile = try ReconcileCommand.parse(options + ["--postgres", "postgres://ledger@127.0.0.1/ledger"])
        for parsed in [serve.redisConnection, worker.redisConnection, reconcile.redisConnection] {
            #expect(parsed.redisConnections == 8)
            #expect(parsed.redisTimeoutMs == 250)
        }
    }

    @Test func withoutThemTheEnvironmentOrTheDefaultDecides() throws {
        let worker = try WorkerCommand.parse(["--redis", "redis://127.0.0.1:6379/0"])
        #expect(worker.redisConnection.redisConnections == nil && worker.redisConnection.redisTimeoutMs == nil)
    }
}
