import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// Hummingbird's HTTP/1.1 child channel with the deduct fast path added right behind SwiftNIO's HTTP/1 decoder.
struct StampedeHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let fastPath: DeductFastPath

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            try operations.addHandler(
                DeductFastPathHandler(path: fastPath, bodyBytesMax: AppRequestContext.requestBodyBytesMax),
                position: .after(decoder)
            )
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPServerBuilder {
    /// HTTP/1.1 with the deduct fast path when the store can answer without a task (``CallbackDeductStore``).
    static func stampede(_ fastPath: DeductFastPath?) -> HTTPServerBuilder {
        guard let fastPath else { return .http1() }
        return HTTPServerBuilder { responder in
            StampedeHTTP1Channel(base: HTTP1Channel(responder: responder), fastPath: fastPath)
        }
    }
}
