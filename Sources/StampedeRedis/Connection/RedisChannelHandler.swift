import NIOCore

/// What is written to a connection: one command or a pipeline, with the promise of the reply.
enum RedisOutbound {
    case single(RedisCommand, EventLoopPromise<RESPValue>)
    case pipeline([RedisCommand], EventLoopPromise<[RESPValue]>)
    /// A command whose answer arrives as push messages (SUBSCRIBE in RESP3): done once written.
    case noReply(RedisCommand, EventLoopPromise<Void>)
}

/// Encodes commands, parses replies and matches them to commands in order (Redis answers in order).
///
/// Commands are pipelined: any number may be written before the first reply arrives, up to
/// `pendingMax`. A reply missing for longer than `commandTimeout` fails every pending command and closes
/// the connection, because later replies could no longer be matched.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisOutbound
    typealias OutboundOut = ByteBuffer

    private enum Reply {
        case single(EventLoopPromise<RESPValue>)
        case pipeline(EventLoopPromise<[RESPValue]>, expected: Int)
    }

    private struct Pending {
        var reply: Reply
        var deadline: NIODeadline
        var name: String
    }

    private let parser: RESPParser
    private let commandTimeout: TimeAmount
    private let pendingMax: Int
    private let onPush: (@Sendable ([RESPValue]) -> Void)?
    private var pending = CircularBuffer<Pending>(initialCapacity: 64)
    /// Replies collected so far for the pipeline at the head of `pending` (only the head receives replies).
    private var headReplies: [RESPValue] = []
    private var cumulation: ByteBuffer?
    private var timeoutCheck: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var failure: RedisError?

    init(
        parser: RESPParser,
        commandTimeout: TimeAmount,
        pendingMax: Int,
        onPush: (@Sendable ([RESPValue]) -> Void)?
    ) {
        precondition(pendingMax > 0, "a connection must accept at least one command")
        self.parser = parser
        self.commandTimeout = commandTimeout
        self.pendingMax = pendingMax
        self.onPush = onPush
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let outbound = unwrapOutboundIn(data)
        if let failure {
            fail(outbound, with: failure)
            promise?.fail(failure)
            return
        }
        guard pending.count < pendingMax else {
            let error = RedisError(.busy, "\(pending.count) commands already wait on this connection")
            fail(outbound, with: error)
            promise?.fail(error)
            return
        }
        let deadline = NIODeadline.now() + commandTimeout
        switch outbound {
        case .single(let command, let replyPromise):
            pending.append(Pending(reply: .single(replyPromise), deadline: deadline, name: command.name))
            context.write(wrapOutboundOut(command.encoded), promise: promise)
        case .pipeline(let commands, let replyPromise):
            guard !commands.isEmpty else {
                replyPromise.succeed([])
                promise?.succeed()
                return
            }
            var buffer = context.channel.allocator.buffer(
                capacity: commands.reduce(0) { $0 + $1.encoded.readableBytes }
            )
            for command in commands { buffer.writeImmutableBuffer(command.encoded) }
            let reply = Reply.pipeline(replyPromise, expected: commands.count)
            pending.append(Pending(reply: reply, deadline: deadline, name: "PIPELINE"))
            context.write(wrapOutboundOut(buffer), promise: promise)
        case .noReply(let command, let writePromise):
            context.write(wrapOutboundOut(command.encoded), promise: writePromise)
            promise?.succeed()
            return
        }
        if timeoutCheck == nil { scheduleTimeoutCheck(context: context, at: deadline) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        if var existing = cumulation {
            existing.writeBuffer(&bytes)
            cumulation = existing
        } else {
            cumulation = bytes
        }
        guard var buffer = cumulation else { return }
        cumulation = nil
        do {
            while let value = try parser.parse(&buffer) {
                deliver(value, context: context)
                guard failure == nil else { return }
            }
        } catch {
            failAll(RedisError(.protocolError, error.context, underlying: error), context: context)
            return
        }
        if buffer.readableBytes > 0 {
            buffer.discardReadBytes()
            cumulation = buffer
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(RedisError(.connectionClosed, "connection closed by the server or the network"), context: nil)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(RedisError(.connectionClosed, "connection error", underlying: error), context: context)
    }

    private func deliver(_ value: RESPValue, context: ChannelHandlerContext) {
        if case .push(let values) = value {
            onPush?(values)
            return
        }
        guard let head = pending.first else {
            failAll(RedisError(.protocolError, "a reply arrived with no command waiting"), context: context)
            return
        }
        switch head.reply {
        case .single(let promise):
            pending.removeFirst()
            promise.succeed(value)
        case .pipeline(let promise, let expected):
            if headReplies.isEmpty { headReplies.reserveCapacity(expected) }
            headReplies.append(value)
            if headReplies.count == expected {
                pending.removeFirst()
                let replies = headReplies
                headReplies = []
                promise.succeed(replies)
            }
        }
    }

    private func scheduleTimeoutCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        timeoutCheck = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [self] in
            timeoutCheck = nil
            guard let head = pending.first else { return }
            if head.deadline <= .now() {
                let waited = commandTimeout.nanoseconds / 1_000_000
                failAll(RedisError(.timeout, "\(head.name): no reply within \(waited) ms"), context: self.context)
            } else {
                scheduleTimeoutCheck(context: context, at: head.deadline)
            }
        }
    }

    /// Fails every waiting command and closes the connection; later writes fail with the same error.
    private func failAll(_ error: RedisError, context: ChannelHandlerContext?) {
        if failure == nil { failure = error }
        timeoutCheck?.cancel()
        timeoutCheck = nil
        while let head = pending.popFirst() {
            switch head.reply {
            case .single(let promise): promise.fail(error)
            case .pipeline(let promise, _): promise.fail(error)
            }
        }
        headReplies = []
        cumulation = nil
        context?.close(promise: nil)
    }

    private func fail(_ outbound: RedisOutbound, with error: RedisError) {
        switch outbound {
        case .single(_, let promise): promise.fail(error)
        case .pipeline(_, let promise): promise.fail(error)
        case .noReply(_, let promise): promise.fail(error)
        }
    }
}
