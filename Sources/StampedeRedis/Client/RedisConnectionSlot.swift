import NIOCore
import Synchronization

/// One connection of the pool: connected, connecting, or idle until its next reconnect attempt.
///
/// After a failed attempt the slot waits `backoff` (doubling up to the maximum, with jitter) before trying
/// again; commands that arrive meanwhile fail at once with `unavailable` instead of queueing or hanging.
final class RedisConnectionSlot: Sendable {
    enum State {
        case idle(failures: Int, retryAt: NIODeadline, lastError: RedisError?)
        case connecting(EventLoopFuture<RedisConnection>, failures: Int)
        case connected(RedisConnection)
        case shutDown
    }

    enum Acquired {
        case ready(RedisConnection)
        case waiting(EventLoopFuture<RedisConnection>)
        case failed(RedisError)
    }

    let eventLoop: any EventLoop
    private let state = Mutex<State>(.idle(failures: 0, retryAt: .uptimeNanoseconds(0), lastError: nil))

    init(eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    /// The open connection, if there is one; never starts connecting.
    var connection: RedisConnection? {
        state.withLock { state in
            if case .connected(let connection) = state, connection.isActive { return connection }
            return nil
        }
    }

    /// The connection, or a future of it when a (re)connect is due, or why there is none right now.
    func acquire(client: RedisClient) -> Acquired {
        let now = NIODeadline.now()
        var startPromise: EventLoopPromise<RedisConnection>?
        var failures = 0
        let acquired: Acquired = state.withLock { state in
            switch state {
            case .connected(let connection):
                // A closing connection moves the slot to idle from its close callback, which also keeps the
                // pool's count of open connections right; until then the slot has nothing to offer.
                if connection.isActive { return .ready(connection) }
                return .failed(RedisError(.connectionClosed, "connection closing; reconnect pending"))
            case .connecting(let future, _):
                return .waiting(future)
            case .shutDown:
                return .failed(RedisError(.shutdown, "the Redis client was shut down"))
            case .idle(let previousFailures, let retryAt, let lastError):
                guard now >= retryAt else {
                    let wait = (retryAt - now).nanoseconds / 1_000_000
                    let reason = lastError.map { "\($0.code)" } ?? "not connected"
                    return .failed(RedisError(.unavailable, "\(reason); next reconnect attempt in \(wait) ms"))
                }
                let promise = eventLoop.makePromise(of: RedisConnection.self)
                state = .connecting(promise.futureResult, failures: previousFailures)
                startPromise = promise
                failures = previousFailures
                return .waiting(promise.futureResult)
            }
        }
        if let startPromise { connect(promise: startPromise, failures: failures, client: client) }
        return acquired
    }

    private func connect(promise: EventLoopPromise<RedisConnection>, failures: Int, client: RedisClient) {
        RedisConnection.connect(configuration: client.configuration, eventLoop: eventLoop).whenComplete { result in
            switch result {
            case .success(let connection):
                let kept = self.state.withLock { state -> Bool in
                    guard case .connecting = state else { return false }
                    state = .connected(connection)
                    return true
                }
                guard kept else {
                    // Shut down while connecting.
                    connection.channel.close(promise: nil)
                    promise.fail(RedisError(.shutdown, "the Redis client was shut down"))
                    return
                }
                connection.closeFuture.whenComplete { _ in self.connectionClosed(connection, client: client) }
                client.slotChanged(connected: true, error: nil)
                promise.succeed(connection)
            case .failure(let error):
                let redisError = error as? RedisError ?? RedisError(.connectFailed, "connect", underlying: error)
                let next = failures + 1
                let retryAt = NIODeadline.now() + client.backoff(afterFailures: next)
                self.state.withLock { state in
                    guard case .connecting = state else { return }
                    state = .idle(failures: next, retryAt: retryAt, lastError: redisError)
                }
                client.slotChanged(connected: false, error: redisError)
                promise.fail(redisError)
            }
        }
    }

    private func connectionClosed(_ connection: RedisConnection, client: RedisClient) {
        let changed = state.withLock { state -> Bool in
            guard case .connected(let current) = state, current === connection else { return false }
            // The first reconnect is immediate: a lost connection is usually one server restart, not an outage.
            state = .idle(failures: 0, retryAt: .now(), lastError: RedisError(.connectionClosed, "connection lost"))
            return true
        }
        if changed { client.slotChanged(connected: false, error: RedisError(.connectionClosed, "connection lost")) }
    }

    /// Closes the connection; later acquires fail with `shutdown`.
    func shutDown() -> EventLoopFuture<Void> {
        let previous = state.withLock { state -> State in
            let previous = state
            state = .shutDown
            return previous
        }
        switch previous {
        case .connected(let connection):
            return connection.channel.close().flatMapErrorThrowing { _ in }
        case .connecting(let future, _):
            return future.flatMap { $0.channel.close() }.flatMapErrorThrowing { _ in }
        case .idle, .shutDown:
            return eventLoop.makeSucceededVoidFuture()
        }
    }
}
