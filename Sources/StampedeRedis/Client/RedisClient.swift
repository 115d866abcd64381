import CoreMetrics
import Logging
import NIOCore
import NIOPosix
import ServiceContextModule
import Synchronization
import Tracing

/// A Redis client: a bounded pool of pipelined connections, reconnecting with backoff, with a client span per
/// command and pool metrics. It knows nothing of what the commands mean.
///
/// Commands from all callers are spread over ``RedisConfiguration/connectionCount`` connections and pipelined
/// on each, so throughput is not capped at one round trip per connection. Blocking commands and pub/sub need
/// a connection of their own: ``makeDedicatedConnection(onPush:)``.
public final class RedisClient: Sendable {
    public let configuration: RedisConfiguration
    private let slots: [RedisConnectionSlot]
    private let cursor = Atomic<Int>(0)
    private let connectedSlots = Atomic<Int>(0)
    private let reportedDown = Atomic<Bool>(false)
    private let metrics: RedisClientMetrics
    private let tracer: (any Tracer)?
    private let logger: Logger
    private let eventLoopGroup: any EventLoopGroup

    /// - Parameter tracer: when set, every command gets a client span (`db.system.name=redis`).
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger,
        tracer: (any Tracer)? = nil,
        metricsFactory: any MetricsFactory = MetricsSystem.factory
    ) throws(RedisConfigurationError) {
        try configuration.validate()
        self.configuration = configuration
        self.eventLoopGroup = eventLoopGroup
        self.slots = (0..<configuration.connectionCount).map { _ in
            RedisConnectionSlot(eventLoop: eventLoopGroup.next())
        }
        self.metrics = RedisClientMetrics(factory: metricsFactory)
        self.tracer = tracer
        self.logger = logger
    }

    /// How many pool connections are open right now.
    public var connectedCount: Int { connectedSlots.load(ordering: .relaxed) }

    // MARK: Commands

    /// Sends one command without waiting; an error reply comes back as ``RESPValue/error(_:)``.
    public func submit(_ command: RedisCommand) -> EventLoopFuture<RESPValue> {
        instrumented(
            command.name,
            batchSize: nil,
            send: { $0.submit(command) },
            outcome: { $0.errorMessage == nil ? "ok" : RedisError.Code.server.description }
        )
    }

    /// Sends the commands in one write on one connection; replies in order, error replies included.
    public func submitPipeline(_ commands: [RedisCommand]) -> EventLoopFuture<[RESPValue]> {
        instrumented(
            "PIPELINE",
            batchSize: commands.count,
            send: { $0.submitPipeline(commands) },
            outcome: { _ in "ok" }
        )
    }

    /// Sends on a pool connection with a span and metrics; `outcome` names the result of a reply.
    private func instrumented<Reply: Sendable>(
        _ name: String,
        batchSize: Int?,
        send: @escaping @Sendable (RedisConnection) -> EventLoopFuture<Reply>,
        outcome: @escaping @Sendable (Reply) -> String
    ) -> EventLoopFuture<Reply> {
        let started = NIODeadline.now()
        let span = startSpan(name, batchSize: batchSize)
        metrics.commandStarted()
        let future: EventLoopFuture<Reply>
        switch acquire() {
        case .ready(let connection): future = send(connection)
        case .waiting(let connecting): future = connecting.flatMap(send)
        case .failed(let error): future = eventLoopGroup.any().makeFailedFuture(error)
        }
        future.whenComplete { result in
            let name: String
            switch result {
            case .success(let reply): name = outcome(reply)
            case .failure(let error): name = (error as? RedisError)?.code.description ?? "other"
            }
            self.finish(span: span, outcome: name, result: result.map { _ in () }, started: started)
        }
        return future
    }

    /// Runs a script by `EVALSHA`; on `NOSCRIPT` (a restarted or flushed server) loads it and runs it again.
    public func submitScript(
        _ script: RedisScript,
        keys: [String] = [],
        arguments: [RedisArgument] = []
    ) -> EventLoopFuture<RESPValue> {
        var evalArguments: [RedisArgument] = [.string(script.sha1), .integer(Int64(keys.count))]
        evalArguments.reserveCapacity(2 + keys.count + arguments.count)
        for key in keys { evalArguments.append(.string(key)) }
        evalArguments.append(contentsOf: arguments)
        let command = RedisCommand("EVALSHA", evalArguments)
        let first = submit(command)
        return first.flatMap { reply in
            // NOSCRIPT means the script did not run, so sending it again cannot apply it twice.
            guard let message = reply.errorMessage, message.hasPrefix("NOSCRIPT") else {
                return first.eventLoop.makeSucceededFuture(reply)
            }
            return self.submit(RedisCommand("SCRIPT", "LOAD", script.source)).flatMap { loaded in
                if loaded.errorMessage != nil { return first.eventLoop.makeSucceededFuture(loaded) }
                return self.submit(command)
            }
        }
    }

    /// Sends one command and waits; an error reply throws ``RedisError/Code-swift.struct/server``.
    @discardableResult
    public func send(_ command: RedisCommand) async throws(RedisError) -> RESPValue {
        try await RedisFutures.value(of: submit(command), command: command.name)
    }

    /// Sends the commands in one write and waits for all replies (error replies included, not thrown).
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RESPValue] {
        do {
            return try await submitPipeline(commands).get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.connectionClosed, "PIPELINE", underlying: error)
        }
    }

    /// Runs a script and waits; an error reply (a Lua error) throws ``RedisError/Code-swift.struct/server``.
    public func evalSHA(
        _ script: RedisScript,
        keys: [String] = [],
        arguments: [RedisArgument] = []
    ) async throws(RedisError) -> RESPValue {
        try await RedisFutures.value(of: submitScript(script, keys: keys, arguments: arguments), command: "EVALSHA")
    }

    /// A new connection outside the pool, for blocking reads and pub/sub. The caller closes it.
    public func makeDedicatedConnection(
        onPush: (@Sendable ([RESPValue]) -> Void)? = nil
    ) async throws(RedisError) -> RedisConnection {
        do {
            return try await RedisConnection.connect(
                configuration: configuration,
                eventLoop: eventLoopGroup.next(),
                onPush: onPush
            ).get()
        } catch let error as RedisError {
            throw error
        } catch {
            throw RedisError(.connectFailed, "dedicated connection", underlying: error)
        }
    }

    /// Closes every pool connection; later commands fail with `shutdown`.
    public func shutdown() async {
        for slot in slots { try? await slot.shutDown().get() }
    }

    // MARK: Pool

    private func acquire() -> RedisConnectionSlot.Acquired {
        let start = cursor.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max
        // Prefer an open connection; only when none is open does a slot start (or wait for) a reconnect.
        for offset in 0..<slots.count {
            if let connection = slots[(start + offset) % slots.count].connection { return .ready(connection) }
        }
        return slots[start % slots.count].acquire(client: self)
    }

    /// Called by slots when a connection opens or closes, or an attempt fails. An outage is logged once as a
    /// warning and its end once as a notice; the attempts in between go to debug, so a long outage does not
    /// flood the log.
    func slotChanged(connected: Bool, error: RedisError?) {
        let count: Int
        let address = configuration.displayAddress
        if connected {
            count = connectedSlots.wrappingAdd(1, ordering: .relaxed).newValue
            if reportedDown.exchange(false, ordering: .relaxed) {
                logger.notice("redis connection restored", metadata: ["redis": "\(address)"])
            }
        } else {
            if error?.code == .connectionClosed {
                count = connectedSlots.wrappingSubtract(1, ordering: .relaxed).newValue
            } else {
                count = connectedSlots.load(ordering: .relaxed)
                metrics.connectFailed()
            }
            let detail = error.map { String(reflecting: $0) } ?? ""
            if reportedDown.exchange(true, ordering: .relaxed) {
                logger.debug("redis still unreachable", metadata: ["redis": "\(address)", "error": "\(detail)"])
            } else {
                logger.warning(
                    "redis connection lost or refused",
                    metadata: ["redis": "\(address)", "error": "\(detail)"]
                )
            }
        }
        metrics.connectionsChanged(connected: count)
    }

    /// The wait before reconnect attempt number `failures + 1`: doubling from the initial backoff, capped,
    /// with ±20 % jitter so that many instances do not reconnect in step.
    func backoff(afterFailures failures: Int) -> TimeAmount {
        let initial = TimeAmount(configuration.reconnectBackoffInitial).nanoseconds
        let maximum = TimeAmount(configuration.reconnectBackoffMax).nanoseconds
        let exponent = min(max(failures - 1, 0), 20)
        let base = min(initial << exponent, maximum)
        let jitter = Int64.random(in: -(base / 5)...(base / 5))
        return .nanoseconds(max(base + jitter, 1_000_000))
    }

    // MARK: Telemetry

    private func startSpan(_ name: String, batchSize: Int?) -> (any Span)? {
        guard let tracer else { return nil }
        let context = ServiceContext.current ?? .topLevel
        let span = tracer.startAnySpan(name, context: context, ofKind: .client)
        guard span.isRecording else {
            span.end()
            return nil
        }
        // One assignment: each one copies the span's whole set.
        span.updateAttributes { attributes in
            attributes["db.system.name"] = "redis"
            attributes["db.operation.name"] = name
            attributes["db.namespace"] = "\(configuration.database)"
            attributes["server.address"] = configuration.host
            attributes["server.port"] = configuration.port
            attributes["db.operation.batch.size"] = batchSize
        }
        return span
    }

    private func finish(
        span: (any Span)?,
        outcome: String,
        result: Result<Void, any Error>,
        started: NIODeadline
    ) {
        metrics.commandFinished(result: outcome, durationNanoseconds: (NIODeadline.now() - started).nanoseconds)
        guard let span else { return }
        if case .failure(let error) = result { span.recordError(error) }
        if outcome != "ok" {
            span.attributes["error.type"] = outcome
            span.setStatus(SpanStatus(code: .error))
        }
        span.end()
    }
}
