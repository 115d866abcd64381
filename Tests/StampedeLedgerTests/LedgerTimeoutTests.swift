import Synchronization
import Testing

@testable import StampedeLedger

@Suite("Ledger calls are bounded in time")
struct LedgerTimeoutTests {
    @Test func aCallThatNeverReturnsTimesOutAndIsCancelled() async throws {
        let cancelled = Atomic<Bool>(false)
        let started = ContinuousClock.now
        await #expect(throws: LedgerTimeoutError.self) {
            try await withLedgerTimeout(.milliseconds(200), "hung write") {
                // Stands for a database call that never answers: only cancellation ends it.
                while !Task.isCancelled { try? await Task.sleep(for: .milliseconds(10)) }
                cancelled.store(true, ordering: .relaxed)
                return 0
            }
        }
        #expect(ContinuousClock.now - started < .seconds(5))
        try await Task.sleep(for: .milliseconds(100))
        let wasCancelled = cancelled.load(ordering: .relaxed)
        #expect(wasCancelled, "the abandoned call was cancelled")
    }

    @Test func aCallThatFinishesInTimeKeepsItsResultOrError() async throws {
        #expect(try await withLedgerTimeout(.seconds(10), "write") { 42 } == 42)
        struct Refused: Error {}
        await #expect(throws: Refused.self) {
            try await withLedgerTimeout(.seconds(10), "write") { () async throws -> Int in throw Refused() }
        }
    }

    @Test func cancellingTheCallerEndsTheWaitAtOnce() async throws {
        let waiting = Task {
            try await withLedgerTimeout(.seconds(60), "write") {
                try await Task.sleep(for: .seconds(60))
                return 0
            }
        }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        let started = ContinuousClock.now
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
