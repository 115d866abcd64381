import DequeModule
import HTTPTypes
import NIOCore
import NIOHTTP1

/// Answers the requests its ``FastPathEndpoint`` handles on the connection's event loop; passes every other request
/// to the router's channel behind it.
///
/// Sits right after SwiftNIO's HTTP/1 decoder, before the conversion to HTTP types, Hummingbird's connection state
/// handler and the async channel, so an endpoint's request costs none of them. Answers keep the order of requests on
/// a pipelined connection: a request is answered here only while no routed request waits for its answer, and what
/// arrives while one waits for its endpoint — request parts, a parse error, the client closing its side — is held
/// (and further reads with it) until its answer is written, then handed on in order.
///
/// The connection state handler never sees these requests, so a graceful shutdown's ``ChannelShouldQuiesceEvent``
/// is held here from a request's head until its answer is written; with nothing in progress on either path, the
/// quiesce closes the connection here (behind an upgrade handler no state handler may exist yet). A request asking
/// to upgrade the connection (WebSocket) is handed on, and the handler leaves the pipeline before the upgrade.
public final class FastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    public typealias InboundIn = HTTPServerRequestPart
    public typealias InboundOut = HTTPServerRequestPart
    public typealias OutboundIn = HTTPServerResponsePart
    public typealias OutboundOut = HTTPServerResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// A routed request's parts are passing through.
        case routing
        /// An endpoint's request body is arriving; the endpoint noted its start at its head.
        case collecting(HTTPRequestHead, ByteBuffer, tooLarge: Bool, started: FastPathStart)
        /// A request waits for its endpoint; `close` when it asked to close the connection.
        case answering(close: Bool)
        /// The connection closes after an answer; what still arrives is dropped.
        case closing
        /// The connection asked to upgrade: everything passes through until the handler has left the pipeline.
        case leaving
    }

    /// What arrived while a request was answered here, in order.
    private enum Held {
        case part(HTTPServerRequestPart)
        case error(any Error)
        case event(Any)
    }

    private let endpoint: any FastPathEndpoint
    /// Told of every request part and answer end of the connection, so that what watches the connection (its
    /// timeouts) needs no handler of its own: each handler costs every part a hop and a cast.
    public var observer: (any HTTPExchangeObserver)?
    private let bodyBytesMax: Int
    private var state = State.idle
    /// Routed requests whose answer's end has not been written yet.
    private var routedInProgress = 0
    /// At most one read's worth: further reads are held while anything is.
    private var held = Deque<Held>()
    private var readHeld = false
    /// A graceful shutdown's quiesce that came while a request was in progress here: handed on once none is.
    private var quiesceHeld = false
    /// The store answered inside `answer`'s own call (invalid input, a refusal, the sold-out cache, a store that
    /// is down): what was held is handed on once that call returns, in a loop rather than by recursion.
    private var answeringInline = false
    private var handOnAfterAnswer = false
    private var handingOn = false
    private var date = HTTPDateHeader()
    private var context: ChannelHandlerContext?

    public init(endpoint: any FastPathEndpoint) {
        self.endpoint = endpoint
        self.bodyBytesMax = endpoint.bodyBytesMax
    }

    private var isAnswering: Bool {
        if case .answering = state { return true }
        return false
    }

    private var isCollecting: Bool {
        if case .collecting = state { return true }
        return false
    }

    public func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    public func handlerRemoved(context: ChannelHandlerContext) {
        // A request whose body never came in full was noted at its head.
        if case .collecting(_, _, _, let started) = state { endpoint.abandoned(started) }
        self.context = nil
    }

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        // Before anything is held or answered: the observer sees parts as they arrive.
        if let observer {
            switch part {
            case .head(let head): observer.requestHeadArrived(head)
            case .body: break
            case .end: observer.requestEnded()
            }
        }
        if isAnswering {
            held.append(.part(part))
            return
        }
        process(part, context: context)
        leaveIfUpgrading(context)
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    /// A parse error must not overtake the answer of a request before it: the router answers it with 400 and closes.
    public func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if isAnswering {
            held.append(.error(error))
            return
        }
        context.fireErrorCaught(error)
    }

    /// Nor may the client's half-close: the router would end the connection before the request is answered. Nor a
    /// graceful shutdown's quiesce, from the head of a request of this path on.
    public func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent && (isAnswering || isCollecting) {
            quiesceHeld = true
            return
        }
        if event is ChannelShouldQuiesceEvent && isIdleOnBothPaths {
            context.close(promise: nil)
            return
        }
        if isAnswering {
            held.append(.event(event))
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The router also answers a request it never got: a parse error (400, then the connection closes).
        if case .end = unwrapOutboundIn(data) {
            if routedInProgress > 0 { routedInProgress -= 1 }
            observer?.answerEnded()
        }
        context.write(data, promise: promise)
    }

    /// Reads go on while a request waits, until something has to be held: a client that does not pipeline never
    /// makes the channel drop and re-add its read interest (two `epoll_ctl` calls per request), and one that does
    /// is held to one read's worth. Reads also wait while the socket cannot take more answers, so a client that
    /// pipelines without reading cannot make answers pile up.
    public func read(context: ChannelHandlerContext) {
        if (isAnswering && !held.isEmpty) || !context.channel.isWritable {
            readHeld = true
            return
        }
        context.read()
    }

    public func channelWritabilityChanged(context: ChannelHandlerContext) {
        context.fireChannelWritabilityChanged()
        if context.channel.isWritable && held.isEmpty { resumeReads(context) }
    }

    private func resumeReads(_ context: ChannelHandlerContext) {
        guard readHeld, context.channel.isWritable, !(isAnswering && !held.isEmpty) else { return }
        readHeld = false
        context.read()
    }

    private func process(_ part: HTTPServerRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .idle:
            if case .head(let head) = part, routedInProgress == 0, endpoint.handles(head) {
                state = .collecting(
                    head,
                    context.channel.allocator.buffer(capacity: 0),
                    tooLarge: false,
                    started: endpoint.start(head)
                )
                return
            }
            if case .head(let head) = part {
                routedInProgress += 1
                state = head.asksForUpgrade ? .leaving : .routing
            }
            context.fireChannelRead(wrapInboundOut(part))
        case .routing:
            if case .end = part { state = .idle }
            context.fireChannelRead(wrapInboundOut(part))
        case .collecting(let head, var body, let tooLarge, let started):
            switch part {
            case .head:
                // The HTTP decoder never starts a request before the previous one ended.
                preconditionFailure("a request head before the end of the previous request")
            case .body(var chunk):
                state = .idle  // drop the reference to `body` so the append does not copy it
                let fits = !tooLarge && body.readableBytes + chunk.readableBytes <= bodyBytesMax
                if fits { body.writeBuffer(&chunk) }
                state = .collecting(head, body, tooLarge: !fits, started: started)
            case .end:
                answer(head, body: body, tooLarge: tooLarge, started: started, context: context)
            }
        case .answering:
            preconditionFailure("parts read while answering are held")
        case .closing:
            break
        case .leaving:
            context.fireChannelRead(wrapInboundOut(part))
        }
    }

    /// Whether no request is in progress on this path or the router's.
    private var isIdleOnBothPaths: Bool {
        if case .idle = state { return routedInProgress == 0 }
        return false
    }

    /// After an upgrade's head (and what was held behind it) has passed, the handler leaves, so the upgraded
    /// protocol's bytes never reach an HTTP/1 handler.
    private func leaveIfUpgrading(_ context: ChannelHandlerContext) {
        guard case .leaving = state, held.isEmpty, self.context != nil else { return }
        if readHeld {
            readHeld = false
            context.read()
        }
        context.pipeline.syncOperations.removeHandler(context: context, promise: nil)
    }

    private func answer(
        _ head: HTTPRequestHead,
        body: ByteBuffer,
        tooLarge: Bool,
        started: FastPathStart,
        context: ChannelHandlerContext
    ) {
        let close = head.headers.joined("Connection")?.lowercased() == "close"
        state = .answering(close: close)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        answeringInline = true
        endpoint.answer(head: head, body: body, bodyTooLarge: tooLarge, started: started, on: context.eventLoop) {
            status,
            bytes in
            loopBound.value.write(status, bytes)
        }
        answeringInline = false
        if handOnAfterAnswer {
            handOnAfterAnswer = false
            handOnHeld(context)
        }
    }

    private func write(_ status: HTTPResponse.Status, _ bytes: ByteBuffer) {
        guard case .answering(let close) = state else {
            preconditionFailure("an answer without a request waiting for it")
        }
        guard let context else { return }  // the channel is gone; nobody to answer
        let head = endpoint.responseHead(status, contentLength: bytes.readableBytes, date: date.value(), close: close)
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(bytes))), promise: nil)
        if close {
            // As the router does: close our side once the answer is out and let the client close its own, so
            // unread bytes on the socket cannot turn the close into a reset that loses the answer.
            state = .closing
            held.removeAll()
            let done = context.writeAndFlush(wrapOutboundOut(.end(nil)))
            observer?.answerEnded()
            done.assumeIsolated().whenComplete { _ in context.close(mode: .output, promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        observer?.answerEnded()
        state = .idle
        if answeringInline {
            handOnAfterAnswer = true
        } else {
            handOnHeld(context)
        }
    }

    /// Hands on what was held while answering, until a part starts another request of this path, then lets reads go on.
    private func handOnHeld(_ context: ChannelHandlerContext) {
        guard !handingOn else { return }  // an inline answer inside the loop below: the loop goes on
        handingOn = true
        defer { handingOn = false }
        var handedOn = false
        while !isAnswering, let item = held.popFirst() {
            handedOn = true
            switch item {
            case .part(let part): process(part, context: context)
            case .error(let error): context.fireErrorCaught(error)
            case .event(let event): context.fireUserInboundEventTriggered(event)
            }
        }
        // The async channel hands on what it was given when a read completes.
        if handedOn { context.fireChannelReadComplete() }
        if quiesceHeld && !isAnswering && !isCollecting {
            quiesceHeld = false
            if isIdleOnBothPaths {
                context.close(promise: nil)
                return
            }
            context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
        }
        resumeReads(context)
        leaveIfUpgrading(context)
    }
}
