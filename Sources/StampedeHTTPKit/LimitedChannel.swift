import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1
import StampedeFastPath

/// Any HTTP/1 server child channel kept within a server's ``HTTPServerLimits``: a connection past
/// ``HTTPServerLimits/connectionsMax`` is answered `503 too_many_connections` and closed at once, and every admitted
/// one gets the idle and header-read timeouts (``ConnectionTimeouts``).
public struct LimitedChannel<Base: ServerChildChannel>: ServerChildChannel {
    /// The base's value, or nothing for a refused connection.
    public struct Value: ServerChildChannelValue {
        public let base: Base.Value?
        public let channel: any Channel
    }

    public let base: Base
    public let load: ServerLoad

    public init(base: Base, load: ServerLoad) {
        self.base = base
        self.load = load
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        guard load.admitConnection() else {
            // Answered before any of the request is read; the client may see the answer or, when it had already
            // sent bytes the close discards, a reset. Either way it learns at once, and holds nothing here.
            let answer = channel.allocator.buffer(string: Self.refusal)
            channel.writeAndFlush(answer).whenComplete { _ in channel.close(promise: nil) }
            return channel.eventLoop.makeSucceededFuture(Value(base: nil, channel: channel))
        }
        let load = self.load
        channel.closeFuture.whenComplete { _ in load.connectionClosed() }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let timeouts = ConnectionTimeouts(limits: load.limits, load: load)
            try operations.addHandler(timeouts.bytesHandler(), position: .before(decoder))
            // Behind a fast path, its handler tells the timeouts what it sees; otherwise a handler of their own does.
            if let fastPath = try? operations.handler(type: FastPathHandler.self) {
                fastPath.observer = timeouts
            } else {
                try operations.addHandler(timeouts.messagesHandler(), position: .after(decoder))
            }
            return Value(base: value, channel: channel)
        }
    }

    public func handle(value: Value, logger: Logger) async {
        guard let admitted = value.base else { return }
        await base.handle(value: admitted, logger: logger)
    }

    /// The whole answer to a connection past the limit.
    static var refusal: String {
        let body =
            #"{"success":false,"code":"too_many_connections","message":"the server holds as many connections as it may; retry shortly"}"#
        return
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)"
            + "\r\nRetry-After: 1\r\nConnection: close\r\n\r\n" + body
    }
}
