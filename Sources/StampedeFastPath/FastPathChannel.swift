import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Any HTTP/1 server child channel (Hummingbird's `HTTP1Channel`, hummingbird-websocket's upgrade channel, …) with
/// a ``FastPathHandler`` added right behind SwiftNIO's HTTP/1 decoder.
///
/// The base's pipeline is left as it is: requests the endpoint does not handle reach it unchanged, and a connection
/// that asks to upgrade (WebSocket) leaves the fast path before the upgrade, so both share one port.
public struct FastPathChannel<Base: ServerChildChannel>: ServerChildChannel {
    public typealias Value = Base.Value

    public let base: Base
    public let endpoint: any FastPathEndpoint

    public init(base: Base, endpoint: any FastPathEndpoint) {
        self.base = base
        self.endpoint = endpoint
    }

    public func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(FastPathHandler(endpoint: endpoint), position: .after(decoder))
            return value
        }
    }

    public func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}
