import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A real OTLP/HTTP receiver for tests: accepts `POST /v1/{traces,metrics,logs}` and keeps the bodies.
public final class OTLPReceiver: Sendable {
    public struct Export: Sendable {
        public var path: String
        public var contentType: String
        public var body: [UInt8]
    }

    private let received = Mutex<[Export]>([])

    public init() {}

    public var exports: [Export] { received.withLock { $0 } }

    /// Runs the receiver on a free loopback port while `body` runs; `body` gets the endpoint URL.
    public func run<T: Sendable>(_ body: @Sendable (String) async throws -> T) async throws -> T {
        let router = Router()
        for signal in ["traces", "metrics", "logs"] {
            router.post("v1/\(signal)") { request, _ -> Response in
                let buffer = try await request.body.collect(upTo: 16 << 20)
                let export = Export(
                    path: "/v1/\(signal)",
                    contentType: request.headers[.contentType] ?? "",
                    body: Array(buffer.readableBytesView)
                )
                self.received.withLock { $0.append(export) }
                let ack = request.headers[.contentType] == "application/json" ? "{}" : ""
                return Response(
                    status: .ok,
                    headers: [.contentType: request.headers[.contentType] ?? "application/x-protobuf"],
                    body: ResponseBody(byteBuffer: ByteBuffer(string: ack))
                )
            }
        }
        let port = AsyncStream<Int>.makeStream()
        var logger = Logger(label: "otlp-receiver")
        logger.logLevel = .warning
        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: 0)),
            onServerRunning: { channel in port.continuation.yield(channel.localAddress?.port ?? 0) },
            logger: logger
        )
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await app.runService(gracefulShutdownSignals: [])
                return nil
            }
            var iterator = port.stream.makeAsyncIterator()
            guard let bound = await iterator.next() else { throw TestSupportError("receiver did not start") }
            let result = try await body("http://127.0.0.1:\(bound)")
            group.cancelAll()
            return result
        }
    }
}
