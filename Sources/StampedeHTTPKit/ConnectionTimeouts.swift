import NIOCore
import NIOHTTP1
import StampedeFastPath

/// The idle and header-read timeouts of one connection, as two handlers around SwiftNIO's HTTP/1 decoder sharing
/// one state (both run on the connection's event loop).
///
/// - The bytes side, before the decoder, notes the first byte of a request: from then on its head must be complete
///   within ``HTTPServerLimits/headerTimeoutMilliseconds`` (a client trickling a header byte a second is closed).
/// - The messages side, after the decoder, sees every request's head and every answer's end, on the router's path
///   and the fast path alike: with no request in progress and no byte of the next one, the connection is idle and
///   is closed after ``HTTPServerLimits/idleTimeoutMilliseconds``; while a request is read or answered, neither
///   timeout runs.
///
/// A new connection starts waiting for its first request's head under the header timeout. A connection that
/// upgrades (WebSocket) leaves both handlers: its protocol keeps its own liveness.
final class ConnectionTimeouts {
    private enum Phase {
        /// No request in progress, no byte of the next one.
        case idle
        /// Bytes of a request's head have arrived (or the connection just opened), not yet all of it.
        case readingHead
        /// Requests in progress (read, or answered): no timeout runs.
        case busy
        /// The connection upgraded or closed.
        case done
    }

    private let idleTimeout: TimeAmount
    private let headerTimeout: TimeAmount
    private let load: ServerLoad
    private var phase = Phase.readingHead
    /// Requests whose head arrived and whose answer's end has not been written.
    private var requestsInProgress = 0
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    /// The pipeline holds the two sides and they hold this state; it only needs them to leave.
    private weak var bytesSide: BytesSide?
    private weak var messagesSide: MessagesSide?

    init(limits: HTTPServerLimits, load: ServerLoad) {
        self.idleTimeout = .milliseconds(Int64(limits.idleTimeoutMilliseconds))
        self.headerTimeout = .milliseconds(Int64(limits.headerTimeoutMilliseconds))
        self.load = load
    }

    /// The two handlers, to add before and after the HTTP/1 decoder.
    func makeHandlers() -> (bytes: BytesSide, messages: MessagesSide) {
        let bytes = BytesSide(owner: self)
        let messages = MessagesSide(owner: self)
        bytesSide = bytes
        messagesSide = messages
        return (bytes, messages)
    }

    fileprivate func started(_ context: ChannelHandlerContext) {
        guard self.context == nil else { return }
        self.context = context
        arm(.header)
    }

    fileprivate func bytesArrived() {
        guard case .idle = phase else { return }
        phase = .readingHead
        arm(.header)
    }

    fileprivate func headArrived() {
        guard phase != .done else { return }
        requestsInProgress += 1
        phase = .busy
        cancelTimer()
    }

    fileprivate func answerEnded() {
        guard phase == .busy else { return }
        requestsInProgress -= 1
        guard requestsInProgress == 0 else { return }
        phase = .idle
        arm(.idle)
    }

    fileprivate func leave() {
        phase = .done
        cancelTimer()
        // Both handlers go: bytes of another protocol must not reach them, and no timer must close an upgraded
        // connection.
        if let operations = context?.pipeline.syncOperations {
            if let bytesSide { operations.removeHandler(bytesSide, promise: nil) }
            if let messagesSide { operations.removeHandler(messagesSide, promise: nil) }
        }
        context = nil
    }

    fileprivate func closed() {
        phase = .done
        cancelTimer()
        context = nil
    }

    private func arm(_ reason: ServerLoad.TimeoutReason) {
        cancelTimer()
        guard let context else { return }
        let timeout = reason == .idle ? idleTimeout : headerTimeout
        timer = context.eventLoop.assumeIsolated().scheduleTask(in: timeout) { [self] in
            self.timer = nil
            guard let context = self.context, self.phase != .done, self.phase != .busy else { return }
            self.load.timedOut(reason)
            self.phase = .done
            context.close(promise: nil)
        }
    }

    private func cancelTimer() {
        timer?.cancel()
        timer = nil
    }

    /// Before the decoder: notes the first byte of the next request.
    final class BytesSide: ChannelInboundHandler, RemovableChannelHandler {
        typealias InboundIn = ByteBuffer
        typealias InboundOut = ByteBuffer
        private let owner: ConnectionTimeouts

        fileprivate init(owner: ConnectionTimeouts) { self.owner = owner }

        func handlerAdded(context: ChannelHandlerContext) {
            if context.channel.isActive { owner.started(context) }
        }

        func channelActive(context: ChannelHandlerContext) {
            owner.started(context)
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            owner.bytesArrived()
            context.fireChannelRead(data)
        }

        func channelInactive(context: ChannelHandlerContext) {
            owner.closed()
            context.fireChannelInactive()
        }
    }

    /// After the decoder: notes each request's head and each answer's end.
    final class MessagesSide: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        private let owner: ConnectionTimeouts

        fileprivate init(owner: ConnectionTimeouts) { self.owner = owner }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            guard case .head(let head) = unwrapInboundIn(data) else {
                context.fireChannelRead(data)
                return
            }
            // Noted before it is handed on: the fast path may answer it within the call.
            owner.headArrived()
            context.fireChannelRead(data)
            if head.asksForUpgrade { owner.leave() }
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { owner.answerEnded() }
            context.write(data, promise: promise)
        }
    }
}
