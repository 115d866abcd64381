import ArgumentParser
import Foundation
import StampedeApp
import StampedePaymentSim

/// `stampede payment-sim`: a payment provider simulator for development and tests.
struct PaymentSimCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payment-sim",
        abstract: "Run a payment provider simulator (charges once per Idempotency-Key, status, refunds, faults).",
        discussion: """
            Point stampede serve at it with --payment-url http://HOST:PORT. Faults can also be changed while it \
            runs: PUT /v1/faults {"latency_ms", "failure_rate", "decline_rate", "unreachable", \
            "timeout_after_commit_rate"}. GET /v1/stats counts charges, refunds and orders charged twice. \
            No money moves: it is not a provider.
            """
    )

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on (0 picks a free one).")
    var port = 8090

    @Option(help: "Added to every answer, in ms.")
    var latencyMs: Int64 = 0

    @Option(help: "Share of calls answered 503 before anything is done (0 to 1).")
    var failureRate = 0.0

    @Option(help: "Share of new charges declined (0 to 1).")
    var declineRate = 0.0

    @Flag(help: "Answer nothing in time: every call times out and nothing is done.")
    var unreachable = false

    @Option(help: "Share of charges made whose answer is lost: the caller times out (0 to 1).")
    var timeoutAfterCommitRate = 0.0

    @Option(help: "Seed of the fault draws, for reproducible runs.")
    var seed: UInt64 = 0x5EED

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        if let field = faults.invalidField {
            throw ValidationError("--\(field.replacingOccurrences(of: "_", with: "-")) is out of range")
        }
    }

    var faults: PaymentSimulator.Faults {
        PaymentSimulator.Faults(
            latencyMilliseconds: latencyMs,
            failureRate: failureRate,
            declineRate: declineRate,
            unreachable: unreachable,
            timeoutAfterCommitRate: timeoutAfterCommitRate
        )
    }

    func run() async throws {
        let process = try await buildPaymentSimulator(
            host: host,
            port: port,
            faults: faults,
            seed: seed,
            logLevel: logLevel,
            environment: ProcessInfo.processInfo.environment
        )
        try await process.run()
    }
}
