import NIOCore
import NIOHTTP1
import StampedeFastPath

/// The idle and request-read timeouts of one connection, as two handlers around SwiftNIO's HTTP/1 decoder sharing
/// one state (both run on the connection's event loop).
///
/// - The bytes side, before the decoder, notes the first byte of a request: from then on the whole request, its
///   head and then its body, must arrive within ``HTTPServerLimits/readTimeoutMilliseconds`` (a client trickling
///   its header or its body a byte a second is closed, and cannot hold a slot of the requests in flight for long).
/// - The messages side, after the decoder, sees every request's head and end and every answer's end, on the
///   router's path and the fast path alike: with no request in progress and no byte of the next one, the connection
///   is idle and is closed after ``HTTPServerLimits/idleTimeoutMilliseconds``. While a request is answered (read in
///   full, its answer not yet written), no timeout runs.
///
/// A new connection starts waiting for its first request under the read timeout. A connection that upgrades
/// (WebSocket) leaves both handlers: its protocol keeps its own liveness.
final class ConnectionTimeouts {
    private enum Phase {
        /// No request in progress, no byte of the next one.
        case idle
        /// Bytes of a request's head have arrived (or the connection just opened), not yet all of it.
        case readingHead
        /// Requests in progress: their bodies are read (``readingBody``) or their answers awaited.
        case busy
        /// The connection upgraded or closed.
        case done
    }

    private let idleTimeout: TimeAmount
    private let readTimeout: TimeAmount
    /// The shorter timeout: a timer never looks further ahead than this, so no deadline set later can be earlier
    /// than the pending timer, and a request never schedules or cancels a timer (two per request cost 10% of a
    /// deduct's CPU when each re-armed one).
    private let checkInterval: TimeAmount
    private let load: ServerLoad
    private var phase = Phase.readingHead
    /// A request's head has arrived and its end has not.
    private var readingBody = false
    /// Requests whose head arrived and whose answer's end has not been written.
    private var requestsInProgress = 0
    /// When the current wait times out; nil while requests are answered. What it means follows from the phase.
    private var deadline: NIODeadline?
    /// The one timer, pending at or before `deadline`; when it fires early it looks again.
    private var timer: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    /// The pipeline holds the two sides and they hold this state; it only needs them to leave.
    private weak var bytesSide: BytesSide?
    private weak var messagesSide: MessagesSide?

    init(limits: HTTPServerLimits, load: ServerLoad) {
        self.idleTimeout = .milliseconds(Int64(limits.idleTimeoutMilliseconds))
        self.readTimeout = .milliseconds(Int64(limits.readTimeoutMilliseconds))
        self.checkInterval = min(idleTimeout, readTimeout)
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
        guard self.context == nil, phase != .done else { return }
        self.context = context
        wait(readTimeout)
    }

    fileprivate func bytesArrived() {
        guard case .idle = phase else { return }
        phase = .readingHead
        wait(readTimeout)
    }

    fileprivate func headArrived() {
        guard phase != .done else { return }
        requestsInProgress += 1
        readingBody = true
        // The deadline set at the request's first byte runs on through its body; a pipelined request whose bytes
        // came while another was answered gets its own.
        if deadline == nil { wait(readTimeout) }
        phase = .busy
    }

    fileprivate func requestEnded() {
        guard phase == .busy else { return }
        readingBody = false
        deadline = nil
    }

    fileprivate func answerEnded() {
        guard phase == .busy else { return }
        requestsInProgress -= 1
        guard requestsInProgress == 0, !readingBody else { return }
        phase = .idle
        wait(idleTimeout)
    }

    fileprivate func leave() {
        phase = .done
        stop()
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
        stop()
        context = nil
    }

    /// Sets the deadline `timeout` from now; schedules the timer only when none is pending.
    private func wait(_ timeout: TimeAmount) {
        let now = NIODeadline.now()
        deadline = now + timeout
        if timer == nil { schedule(at: now + checkInterval) }
    }

    private func schedule(at instant: NIODeadline) {
        guard let context else { return }
        timer = context.eventLoop.assumeIsolated().scheduleTask(deadline: instant) { [self] in
            self.timer = nil
            self.check()
        }
    }

    private func check() {
        guard let deadline, let context, phase != .done else { return }
        let now = NIODeadline.now()
        guard now >= deadline else {
            schedule(at: min(deadline, now + checkInterval))
            return
        }
        let reason: ServerLoad.TimeoutReason
        switch phase {
        case .idle: reason = .idle
        case .readingHead: reason = .header
        case .busy where readingBody: reason = .body
        case .busy, .done: return
        }
        load.timedOut(reason)
        phase = .done
        context.close(promise: nil)
    }

    private func stop() {
        deadline = nil
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

    /// After the decoder: notes each request's head and end, and each answer's end.
    final class MessagesSide: ChannelDuplexHandler, RemovableChannelHandler {
        typealias InboundIn = HTTPServerRequestPart
        typealias InboundOut = HTTPServerRequestPart
        typealias OutboundIn = HTTPServerResponsePart
        typealias OutboundOut = HTTPServerResponsePart
        private let owner: ConnectionTimeouts

        fileprivate init(owner: ConnectionTimeouts) { self.owner = owner }

        /// Each part is noted before it is handed on: the fast path may answer its request within the call.
        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            switch unwrapInboundIn(data) {
            case .head(let head):
                owner.headArrived()
                context.fireChannelRead(data)
                if head.asksForUpgrade { owner.leave() }
            case .body:
                context.fireChannelRead(data)
            case .end:
                owner.requestEnded()
                context.fireChannelRead(data)
            }
        }

        func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
            if case .end = unwrapOutboundIn(data) { owner.answerEnded() }
            context.write(data, promise: promise)
        }
    }
}
