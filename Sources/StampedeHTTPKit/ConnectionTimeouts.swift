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
///   router's path and the fast path alike (behind a fast path, its ``FastPathHandler`` tells this state instead,
///   as its ``HTTPExchangeObserver``, which spares every part a handler's hop and cast): with no request in progress and no byte of the next one, the connection
///   is idle and is closed after ``HTTPServerLimits/idleTimeoutMilliseconds``. While a request is answered (read in
///   full, its answer not yet written), no timeout runs.
///
/// A new connection starts waiting for its first request under the read timeout. A connection that upgrades
/// (WebSocket) leaves both handlers: its protocol keeps its own liveness.
final class ConnectionTimeouts: HTTPExchangeObserver {
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

    init(limits: HTTPServerLimits, load: ServerLoad) {
        self.idleTimeout = .milliseconds(Int64(limits.idleTimeoutMilliseconds))
        self.readTimeout = .milliseconds(Int64(limits.readTimeoutMilliseconds))
        self.checkInterval = min(idleTimeout, readTimeout)
        self.load = load
    }

    /// The bytes side, to add before the HTTP/1 decoder.
    /// The pipeline holds them and they hold this state; nothing refers back to them (a weak reference would move
    /// their reference counts to a side table, slower on every event).
    func bytesHandler() -> BytesSide { BytesSide(owner: self) }

    /// The messages side, for a connection without a fast path.
    func messagesHandler() -> MessagesSide { MessagesSide(owner: self) }

    /// Whether the connection upgraded: the handlers leave the pipeline.
    fileprivate private(set) var hasLeft = false

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

    func requestHeadArrived(_ head: HTTPRequestHead) {
        guard phase != .done else { return }
        if head.asksForUpgrade {
            leave()
            return
        }
        requestsInProgress += 1
        readingBody = true
        // The deadline set at the request's first byte runs on through its body; a pipelined request whose bytes
        // came while another was answered gets its own.
        if deadline == nil { wait(readTimeout) }
        phase = .busy
    }

    func requestEnded() {
        guard phase == .busy else { return }
        readingBody = false
        deadline = nil
    }

    func answerEnded() {
        guard phase == .busy else { return }
        requestsInProgress -= 1
        guard requestsInProgress == 0, !readingBody else { return }
        phase = .idle
        wait(idleTimeout)
    }

    /// The connection upgrades: no timer may close it now. The messages side leaves once the head is handed on
    /// (bytes of another protocol must not reach it); the bytes side, which only passes bytes on, with the next read.
    private func leave() {
        phase = .done
        hasLeft = true
        stop()
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
            if owner.hasLeft { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
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
                owner.requestHeadArrived(head)
                context.fireChannelRead(data)
                if owner.hasLeft { context.pipeline.syncOperations.removeHandler(context: context, promise: nil) }
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
