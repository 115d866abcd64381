import ServiceContextModule
import Synchronization
import Testing

@testable import StampedeOrders

@Suite("Bounded fan-out")
struct BoundedFanOutTests {
    enum Marker: ServiceContextKey {
        typealias Value = String
    }

    struct Failure: Error {}

    @Test func resultsComeBackInOrderWithinTheBound() async throws {
        let running = Atomic<Int>(0)
        let most = Atomic<Int>(0)
        let outputs = try await BoundedFanOut.map(Array(0..<50), limit: 4) { value in
            let now = running.add(1, ordering: .relaxed).newValue
            _ = most.max(now, ordering: .relaxed)
            try await Task.sleep(for: .milliseconds(Int64(value % 5)))
            running.subtract(1, ordering: .relaxed)
            return value * 2
        }
        #expect(outputs == (0..<50).map { $0 * 2 })
        #expect(most.load(ordering: .relaxed) <= 4 && most.load(ordering: .relaxed) >= 2)
    }

    @Test func theFirstErrorCancelsTheRestAndIsThrown() async throws {
        let finished = Atomic<Int>(0)
        let cancelled = Atomic<Int>(0)
        await #expect(throws: Failure.self) {
            _ = try await BoundedFanOut.map(Array(0..<20), limit: 5) { value in
                if value == 2 { throw Failure() }
                do {
                    try await Task.sleep(for: .seconds(5))
                } catch {
                    cancelled.add(1, ordering: .relaxed)
                    throw error
                }
                finished.add(1, ordering: .relaxed)
                return value
            }
        }
        // The children running when the error came were cancelled; the rest never started.
        #expect(finished.load(ordering: .relaxed) == 0)
        #expect(cancelled.load(ordering: .relaxed) == 4)
    }

    @Test func childrenRunInTheCallersContext() async throws {
        var context = ServiceContext.topLevel
        context[Marker.self] = "trace-of-the-caller"
        let seen = try await ServiceContext.withValue(context) {
            try await BoundedFanOut.map([1, 2, 3], limit: 2) { _ in ServiceContext.current?[Marker.self] }
        }
        #expect(seen == ["trace-of-the-caller", "trace-of-the-caller", "trace-of-the-caller"])
    }
}
