import Logging
import NIOCore
import NIOPosix

/// One TCP connection to Redis, after its handshake: RESP3 when the server speaks it, else RESP2.
///
/// Safe to use from any thread; commands from many callers are pipelined in the order they were written.
public final class RedisConnection: Sendable {
    let channel: any Channel
    /// 3 after a successful `HELLO 3`, 2 on servers that do not know HELLO.
    public let protocolVersion: Int

    private init(channel: any Channel, protocolVersion: Int) {
        self.channel = channel
        self.protocolVersion = protocolVersion
    }

    public var isActive: Bool { channel.isActive }
    public var eventLoop: any EventLoop { channel.eventLoop }
    /// Completes when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    /// Connects, says HELLO (falling back to RESP2 with AUTH), and selects the database.
    ///
    /// - Parameter onPush: receives push messages (pub/sub); called on the connection's event loop.
    public static func connect(
        configuration: RedisConfiguration,
        eventLoop: any EventLoop,
        onPush: (@Sendable ([RESPValue]) -> Void)? = nil
    ) -> EventLoopFuture<RedisConnection> {
        let parser = RESPParser(limits: configuration.parserLimits)
        let commandTimeout = TimeAmount(configuration.commandTimeout)
        let pendingMax = configuration.pendingCommandsMax
        let connectTimeout = TimeAmount(configuration.connectTimeout)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = RedisChannelHandler(
                        parser: parser,
                        commandTimeout: commandTimeout,
                        pendingMax: pendingMax,
                        onPush: onPush
                    )
                    try channel.pipeline.syncOperations.addHandler(handler)
                }
            }
        let address = "\(configuration.host):\(configuration.port)"
        return bootstrap.connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                throw RedisError(.connectFailed, "connect to \(address)", underlying: error)
            }
            .flatMap { channel in
                handshake(channel: channel, configuration: configuration).flatMapError { error in
                    channel.close(promise: nil)
                    return channel.eventLoop.makeFailedFuture(error)
                }
            }
    }

    private static func handshake(
        channel: any Channel,
        configuration: RedisConfiguration
    ) -> EventLoopFuture<RedisConnection> {
        var hello: [RedisArgument] = ["3"]
        if let password = configuration.password {
            hello += ["AUTH", .string(configuration.username ?? "default"), .string(password)]
        }
        hello += ["SETNAME", .string(configuration.clientName)]
        let probe = RedisConnection(channel: channel, protocolVersion: 3)
        return probe.submit(RedisCommand("HELLO", hello)).flatMap { reply -> EventLoopFuture<Int> in
            guard let message = reply.errorMessage else { return channel.eventLoop.makeSucceededFuture(3) }
            // Servers before Redis 6 do not know HELLO: speak RESP2 and authenticate with AUTH.
            guard message.hasPrefix("ERR") || message.hasPrefix("NOPROTO") else {
                return channel.eventLoop.makeFailedFuture(RedisError(.handshakeFailed, "HELLO: \(message)"))
            }
            guard let password = configuration.password else { return channel.eventLoop.makeSucceededFuture(2) }
            var auth: [RedisArgument] = []
            if let username = configuration.username { auth.append(.string(username)) }
            auth.append(.string(password))
            return probe.submit(RedisCommand("AUTH", auth)).flatMapThrowing { reply in
                if let message = reply.errorMessage { throw RedisError(.handshakeFailed, "AUTH: \(message)") }
                return 2
            }
        }.flatMap { version in
            let connection = RedisConnection(channel: channel, protocolVersion: version)
            guard configuration.database != 0 else { return channel.eventLoop.makeSucceededFuture(connection) }
            return connection.submit(RedisCommand("SELECT", [.integer(Int64(configuration.database))]))
                .flatMapThrowing { reply in
                    if let message = reply.errorMessage { throw RedisError(.handshakeFailed, "SELECT: \(message)") }
                    return connection
                }
        }
    }

    /// Sends one command without waiting; an error reply comes back as ``RESPValue/error(_:)``, not as a failure.
    public func submit(_ command: RedisCommand) -> EventLoopFuture<RESPValue> {
        let promise = channel.eventLoop.makePromise(of: RESPValue.self)
        channel.writeAndFlush(RedisOutbound.single(command, promise), promise: nil)
        return promise.futureResult
    }

    /// Sends the commands in one write; the replies come back in order, error replies included.
    public func submitPipeline(_ commands: [RedisCommand]) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        channel.writeAndFlush(RedisOutbound.pipeline(commands, promise), promise: nil)
        return promise.futureResult
    }

    /// Writes a command whose answers arrive as push messages (SUBSCRIBE and friends in RESP3).
    func sendExpectingPush(_ command: RedisCommand) -> EventLoopFuture<Void> {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.writeAndFlush(RedisOutbound.noReply(command, promise), promise: nil)
        return promise.futureResult
    }

    /// Sends one command and waits; an error reply throws ``RedisError/Code-swift.struct/server``.
    public func send(_ command: RedisCommand) async throws(RedisError) -> RESPValue {
        try await RedisFutures.value(of: submit(command), command: command.name)
    }

    public func close() async {
        try? await channel.close()
    }
}

/// Bridges futures to async with the library's error type.
enum RedisFutures {
    static func value(of future: EventLoopFuture<RESPValue>, command: String) async throws(RedisError) -> RESPValue {
        let reply: RESPValue
        do {
            reply = try await future.get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.connectionClosed, command, underlying: error)
        }
        if let message = reply.errorMessage { throw RedisError(.server, message) }
        return reply
    }
}

extension TimeAmount {
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
