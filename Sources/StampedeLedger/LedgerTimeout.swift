import Synchronization

/// A ledger call that did not finish in time; the call was cancelled and its outcome is unknown.
public struct LedgerTimeoutError: Error, Sendable, CustomStringConvertible {
    public var operation: String
    public var timeout: Duration

    public var description: String { "\(operation) did not finish within \(timeout); cancelled" }
}

/// Runs `operation` but returns (throwing ``LedgerTimeoutError``) after `timeout` even if it has not finished.
///
/// The database client is not trusted to return: a connection that died without a reset, or a pool waiting for a
/// server that came back, would otherwise stall the worker for good with no error to retry on. The operation is
/// cancelled and left to end on its own; its effect, if any, is idempotent for the ledger.
func withLedgerTimeout<T: Sendable>(
    _ timeout: Duration,
    _ operation: String,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let race = TimeoutRace<T>()
    return try await withTaskCancellationHandler {
        try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
            race.start(continuation) {
                Task {
                    do {
                        let value = try await body()
                        race.finish(.success(value))
                    } catch {
                        race.finish(.failure(error))
                    }
                }
            } timer: {
                Task {
                    try? await Task.sleep(for: timeout)
                    if !Task.isCancelled {
                        race.finish(.failure(LedgerTimeoutError(operation: operation, timeout: timeout)))
                    }
                }
            }
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// Whichever of the work, the timer or a cancellation finishes first resumes the caller and cancels the others.
private final class TimeoutRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: UnsafeContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        var outcome: Result<T, any Error>?
    }

    private let state = Mutex(State())

    func start(
        _ continuation: UnsafeContinuation<T, any Error>,
        work: () -> Task<Void, Never>,
        timer: () -> Task<Void, Never>
    ) {
        // Cancelled before it started: answer at once.
        let early: Result<T, any Error>? = state.withLock { state in
            if let outcome = state.outcome { return outcome }
            state.continuation = continuation
            return nil
        }
        if let early {
            continuation.resume(with: early)
            return
        }
        let workTask = work()
        let timerTask = timer()
        let finished = state.withLock { state in
            state.work = workTask
            state.timer = timerTask
            return state.continuation == nil
        }
        if finished {
            workTask.cancel()
            timerTask.cancel()
        }
    }

    func finish(_ outcome: Result<T, any Error>) {
        let (continuation, work, timer) = state.withLock { state in
            if state.outcome == nil { state.outcome = outcome }
            defer { state.continuation = nil }
            return (state.continuation, state.work, state.timer)
        }
        guard let continuation else { return }
        work?.cancel()
        timer?.cancel()
        continuation.resume(with: outcome)
    }
}
