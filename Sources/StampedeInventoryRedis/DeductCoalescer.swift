import DequeModule
import NIOCore
import ServiceContextModule
import StampedeInventory
import Synchronization

/// Sends concurrent deducts to Redis together: up to `inFlightMax` script calls run at once, and deducts
/// arriving meanwhile wait and leave together, up to `batchMax` in one call, when one of them returns.
///
/// An idle store sends each deduct at once (no timer, no added latency); a busy one sends fewer, larger calls,
/// so throughput is not capped at one round trip per request. Each request still gets its own outcome.
final class DeductCoalescer: Sendable {
    typealias Execute = @Sendable ([DeductRequest]) -> EventLoopFuture<[DeductOutcome]>

    typealias Completion = @Sendable (Result<DeductOutcome, any Error>) -> Void

    private struct Waiter {
        var request: DeductRequest
        var completion: Completion
        var context: ServiceContext?
    }

    private struct State {
        var queue = Deque<Waiter>()
        var inFlight = 0
    }

    private let state = Mutex(State())
    private let batchMax: Int
    private let inFlightMax: Int
    private let queueMax: Int
    private let execute: Execute

    init(batchMax: Int, inFlightMax: Int, queueMax: Int, execute: @escaping Execute) {
        precondition(batchMax >= 1 && inFlightMax >= 1 && queueMax >= 1, "coalescer limits must be positive")
        self.batchMax = batchMax
        self.inFlightMax = inFlightMax
        self.queueMax = queueMax
        self.execute = execute
    }

    /// Sends `request` now or queues it; `completion` runs once, on the Redis connection's event loop (or at once
    /// when the queue is full).
    func deduct(_ request: DeductRequest, completion: @escaping Completion) {
        let waiter = Waiter(request: request, completion: completion, context: ServiceContext.current)
        enum Next {
            case send
            case queued
            case full
        }
        let next: Next = state.withLock { state in
            if state.inFlight < inFlightMax {
                assert(state.queue.isEmpty, "deducts queue only while every call slot is busy")
                state.inFlight += 1
                return .send
            }
            guard state.queue.count < queueMax else { return .full }
            state.queue.append(waiter)
            return .queued
        }
        switch next {
        case .send: dispatch([waiter])
        case .queued: break
        case .full:
            completion(
                .failure(InventoryStoreError(.storageBusy, context: "\(queueMax) deducts already wait for Redis"))
            )
        }
    }

    private func dispatch(_ batch: [Waiter]) {
        // The call joins the trace of the first request in it; the others are answered by the same call.
        let future = ServiceContext.withValue(batch[0].context) {
            execute(batch.map(\.request))
        }
        future.whenComplete { result in
            // The deducts that waited leave before this call's are answered: answering writes their HTTP
            // responses, and Redis can run the next call meanwhile.
            let next: [Waiter]? = self.state.withLock { state in
                guard !state.queue.isEmpty else {
                    state.inFlight -= 1
                    return nil
                }
                let count = min(state.queue.count, self.batchMax)
                let next = Array(state.queue.prefix(count))
                state.queue.removeFirst(count)
                return next
            }
            if let next { self.dispatch(next) }
            switch result {
            case .success(let outcomes):
                precondition(outcomes.count == batch.count, "one outcome per deduct")
                for (waiter, outcome) in zip(batch, outcomes) { waiter.completion(.success(outcome)) }
            case .failure(let error):
                for waiter in batch { waiter.completion(.failure(error)) }
            }
        }
    }
}
