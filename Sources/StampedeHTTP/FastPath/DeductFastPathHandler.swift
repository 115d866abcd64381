import DequeModule
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `POST /api/v1/inventory/deduct` on the connection's event loop; passes every other request to the
/// router's async channel behind it.
///
/// Sits after Hummingbird's connection state handler (which so still sees every request and answer: idle timeout,
/// graceful shutdown) and before the async channel. Answers keep the order of requests on a pipelined
/// connection: a deduct is answered here only while no routed request waits for its answer, and parts read while
/// a deduct waits for the store are held (and further reads with them) until its answer is written.
final class DeductFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum State {
        /// Between requests.
        case idle
        /// A routed request's parts are passing through.
        case routing
        /// A deduct's body is arriving.
        case collecting(HTTPRequest, ByteBuffer, tooLarge: Bool)
        /// A deduct waits for the store; `close` when its request asked to close the connection.
        case answering(close: Bool)
        /// The connection closes after an answer; what still arrives is dropped.
        case closing
    }

    private let path: DeductFastPath
    private let bodyBytesMax: Int
    private var state = State.idle
    /// Routed requests whose answer's end has not been written yet.
    private var routedInProgress = 0
    /// Parts read while a deduct was answered (at most one read's worth: further reads are held meanwhile).
    private var held = Deque<HTTPRequestPart>()
    private var readHeld = false
    private var date = HTTPDateHeader()
    private var context: ChannelHandlerContext?

    init(path: DeductFastPath, bodyBytesMax: Int) {
        self.path = path
        self.bodyBytesMax = bodyBytesMax
    }

    func handlerAdded(context: ChannelHandlerContext) { self.context = context }

    func handlerRemoved(context: ChannelHandlerContext) { self.context = nil }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .answering = state {
            held.append(part)
            return
        }
        process(part, context: context)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // The router also answers a request it never got: a parse error (400, then the connection closes).
        if case .end = unwrapOutboundIn(data), routedInProgress > 0 { routedInProgress -= 1 }
        context.write(data, promise: promise)
    }

    /// Reads go on while a deduct waits, until a part has to be held: a client that does not pipeline never
    /// makes the channel drop and re-add its read interest (two `epoll_ctl` calls per request), and one that does
    /// is held to one read's worth of parts.
    func read(context: ChannelHandlerContext) {
        if case .answering = state, !held.isEmpty {
            readHeld = true
            return
        }
        context.read()
    }

    private func process(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch state {
        case .idle:
            if case .head(let head) = part, routedInProgress == 0, DeductFastPath.handles(head) {
                state = .collecting(head, context.channel.allocator.buffer(capacity: 0), tooLarge: false)
                return
            }
            if case .head = part {
                routedInProgress += 1
                state = .routing
            }
            context.fireChannelRead(wrapInboundOut(part))
        case .routing:
            if case .end = part { state = .idle }
            context.fireChannelRead(wrapInboundOut(part))
        case .collecting(let head, var body, let tooLarge):
            switch part {
            case .head:
                // The HTTP decoder never starts a request before the previous one ended.
                preconditionFailure("a request head before the end of the previous request")
            case .body(var chunk):
                state = .idle  // drop the reference to `body` so the append does not copy it
                let fits = !tooLarge && body.readableBytes + chunk.readableBytes <= bodyBytesMax
                if fits { body.writeBuffer(&chunk) }
                state = .collecting(head, body, tooLarge: !fits)
            case .end:
                answer(head, body: body, tooLarge: tooLarge, context: context)
            }
        case .answering:
            preconditionFailure("parts read while answering are held")
        case .closing:
            break
        }
    }

    private func answer(_ head: HTTPRequest, body: ByteBuffer, tooLarge: Bool, context: ChannelHandlerContext) {
        let close = head.headerFields[.connection]?.lowercased() == "close"
        state = .answering(close: close)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let eventLoop = context.eventLoop
        path.answer(head: head, body: body, bodyTooLarge: tooLarge) { status, bytes in
            if eventLoop.inEventLoop {
                loopBound.value.write(status, bytes)
            } else {
                eventLoop.execute { loopBound.value.write(status, bytes) }
            }
        }
    }

    private func write(_ status: HTTPResponse.Status, _ bytes: ByteBuffer) {
        guard case .answering(let close) = state else {
            preconditionFailure("an answer without a request waiting for it")
        }
        guard let context else { return }  // the channel is gone; nobody to answer
        let fields = path.headerFields(contentLength: bytes.readableBytes, date: date.value(), close: close)
        context.write(wrapOutboundOut(.head(HTTPResponse(status: status, headerFields: fields))), promise: nil)
        context.write(wrapOutboundOut(.body(bytes)), promise: nil)
        if close {
            state = .closing
            held.removeAll()
            context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
            return
        }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        state = .idle
        resumeReading(context)
    }

    /// Handles the parts held while answering, until one starts another deduct, then lets reads go on.
    private func resumeReading(_ context: ChannelHandlerContext) {
        var processed = false
        while let part = held.popFirst() {
            if case .answering = state {
                held.prepend(part)
                break
            }
            process(part, context: context)
            processed = true
        }
        // The async channel hands on what it was given when a read completes.
        if processed { context.fireChannelReadComplete() }
        if case .answering = state { return }
        if readHeld {
            readHeld = false
            context.read()
        }
    }
}
