import NIOCore
import Synchronization

/// A message received on a subscribed channel.
public struct RedisMessage: Sendable, Hashable {
    public var channel: String
    public var payload: ByteBuffer
}

/// A pub/sub subscription on a connection of its own (RESP3 push messages).
///
/// Messages go into a bounded buffer; when the reader falls behind, the oldest are dropped and counted in
/// ``droppedCount`` rather than letting one slow reader grow memory without limit.
public final class RedisSubscriber: Sendable {
    public let messages: AsyncStream<RedisMessage>
    private let connection: RedisConnection
    private let state: SubscriptionState

    private init(messages: AsyncStream<RedisMessage>, connection: RedisConnection, state: SubscriptionState) {
        self.messages = messages
        self.connection = connection
        self.state = state
    }

    /// Messages dropped because the buffer was full.
    public var droppedCount: Int { state.dropped.load(ordering: .relaxed) }

    /// Subscribes to `channels` and returns once the server confirmed every subscription.
    public static func subscribe(
        client: RedisClient,
        channels: [String],
        bufferSize: Int = 1024
    ) async throws(RedisError) -> RedisSubscriber {
        precondition(!channels.isEmpty && bufferSize > 0, "subscribe to at least one channel with a buffer")
        let (stream, continuation) = AsyncStream.makeStream(
            of: RedisMessage.self,
            bufferingPolicy: .bufferingNewest(bufferSize)
        )
        let state = SubscriptionState(expected: channels.count)
        let connection = try await client.makeDedicatedConnection { values in
            state.handle(values, continuation: continuation)
        }
        guard connection.protocolVersion == 3 else {
            await connection.close()
            throw RedisError(.handshakeFailed, "pub/sub needs RESP3 (Redis 6 or later)")
        }
        connection.closeFuture.whenComplete { _ in continuation.finish() }
        let confirmed = connection.eventLoop.makePromise(of: Void.self)
        state.confirmed.withLock { $0 = confirmed }
        connection.sendExpectingPush(RedisCommand("SUBSCRIBE", channels.map { .string($0) }))
            .cascadeFailure(to: confirmed)
        let timeout = connection.eventLoop.scheduleTask(in: TimeAmount(client.configuration.commandTimeout)) {
            confirmed.fail(RedisError(.timeout, "SUBSCRIBE: no confirmation"))
        }
        do {
            try await confirmed.futureResult.get()
            timeout.cancel()
        } catch {
            await connection.close()
            throw error as? RedisError ?? RedisError(.connectionClosed, "SUBSCRIBE", underlying: error)
        }
        return RedisSubscriber(messages: stream, connection: connection, state: state)
    }

    public func close() async {
        await connection.close()
    }
}

/// What the push handler of a subscriber connection tracks: confirmations and drops.
final class SubscriptionState: Sendable {
    let expected: Int
    let confirmations = Atomic<Int>(0)
    let dropped = Atomic<Int>(0)
    let confirmed = Mutex<EventLoopPromise<Void>?>(nil)

    init(expected: Int) {
        self.expected = expected
    }

    func handle(_ values: [RESPValue], continuation: AsyncStream<RedisMessage>.Continuation) {
        guard let kind = values.first?.string else { return }
        switch kind {
        case "message":
            guard values.count == 3, let channel = values[1].string, case .bulkString(let payload) = values[2] else {
                return
            }
            if case .dropped = continuation.yield(RedisMessage(channel: channel, payload: payload)) {
                dropped.wrappingAdd(1, ordering: .relaxed)
            }
        case "subscribe":
            if confirmations.wrappingAdd(1, ordering: .relaxed).newValue == expected {
                confirmed.withLock { $0 }?.succeed()
            }
        default:
            break
        }
    }
}

extension RedisClient {
    /// Publishes `message` on `channel`; returns how many subscribers received it.
    @discardableResult
    public func publish(_ message: ByteBuffer, to channel: String) async throws(RedisError) -> Int {
        let reply = try await send(RedisCommand("PUBLISH", [.string(channel), .bytes(message)]))
        guard let count = reply.int64 else { throw RedisError(.unexpectedReply, "PUBLISH: \(reply)") }
        return Int(count)
    }
}
