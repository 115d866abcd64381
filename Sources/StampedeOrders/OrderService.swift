import Instrumentation
import Logging
import ServiceContextModule
import Synchronization
import Tracing

/// Places orders and runs their checkout sagas: at most ``Configuration/inFlightMax`` at once, each in its own
/// task inside ``run()``, resumed there at start-up when a previous process left them unfinished.
///
/// A new order is written (status `created`) before anything else happens, so an order that was answered always
/// runs to its end, whatever crashes meanwhile.
public final class OrderService: Sendable {
    public struct Configuration: Sendable {
        /// How long the forward path (reserve, charge) may take before the order is compensated (`expired`).
        public var orderTimeout: Duration
        /// How long the inventory holds an order's units: longer than `orderTimeout`, so a paid order finds them.
        public var holdMilliseconds: Int64
        /// Most sagas running at once; past it, new orders are refused (`busy`).
        public var inFlightMax: Int
        /// How long `place(_:waitForPayment: true)` waits for the saga before answering with its current state.
        public var answerWait: Duration
        public var retry: RetryPolicy
        public var limits: OrderLimits

        public init(
            orderTimeout: Duration = .seconds(30),
            holdMilliseconds: Int64 = 900_000,
            inFlightMax: Int = 10_000,
            answerWait: Duration = .seconds(10),
            retry: RetryPolicy = RetryPolicy(),
            limits: OrderLimits = .default
        ) {
            self.orderTimeout = orderTimeout
            self.holdMilliseconds = holdMilliseconds
            self.inFlightMax = inFlightMax
            self.answerWait = answerWait
            self.retry = retry
            self.limits = limits
        }
    }

    /// A saga being run, and who waits for its end.
    private struct Running {
        var startedAtMilliseconds: Int64
        var context: ServiceContext?
        var cancelRequested = false
        var waiters: [Int: CheckedContinuation<Void, Never>] = [:]
    }

    private struct State {
        var running: [String: Running] = [:]
        var nextToken = 0
        /// Waiters handed out and neither resumed nor cancelled yet; a waiter cancelled before it registers is no
        /// longer here, so it registers nothing and returns at once.
        var pendingTokens: Set<Int> = []
    }

    public let configuration: Configuration
    let store: any OrderStore
    let runner: CheckoutRunner
    let clock: @Sendable () -> Int64
    let logger: Logger
    let metrics: OrderMetrics
    private let state = Mutex(State())
    private let starts: AsyncStream<String>
    private let startsContinuation: AsyncStream<String>.Continuation

    public init(
        store: any OrderStore,
        runner: CheckoutRunner,
        configuration: Configuration = Configuration(),
        clock: @escaping @Sendable () -> Int64,
        logger: Logger,
        metrics: OrderMetrics
    ) {
        self.store = store
        self.runner = runner
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
        // Bounded by inFlightMax: an id is yielded only after a slot was taken in `running`.
        (starts, startsContinuation) = AsyncStream.makeStream(of: String.self)
    }

    // MARK: API

    /// Places the order (or finds it again by its request id). With `waitForPayment`, waits up to
    /// ``Configuration/answerWait`` for the saga to end before answering.
    public func place(_ request: OrderRequest, waitForPayment: Bool) async throws -> PlaceOutcome {
        if let problem = request.invalidField(limits: configuration.limits) {
            metrics.recordCreated(.invalid)
            return .invalid(problem)
        }
        let orderID = OrderIdentity.orderID(userID: request.userID, requestID: request.requestID)
        let now = clock()
        let saga = CheckoutSaga(
            orderID: orderID,
            request: request,
            now: now,
            deadlineMilliseconds: now + configuration.orderTimeout.milliseconds,
            holdMilliseconds: configuration.holdMilliseconds,
            retry: configuration.retry,
            traceID: currentTraceID()
        )
        let taken = state.withLock { state -> Bool in
            guard state.running[orderID] == nil, state.running.count < configuration.inFlightMax else { return false }
            state.running[orderID] = Running(startedAtMilliseconds: now, context: ServiceContext.current)
            return true
        }
        let existing: CheckoutSaga?
        do {
            // A running order is found in the store too: `create` answers it without writing. Without a slot,
            // nothing is written: an order the store holds must be running or resumable.
            existing = taken ? try await store.create(saga) : try await store.load(orderID: orderID)
        } catch {
            if taken { release(orderID) }
            metrics.recordCreated(.error)
            throw error
        }
        if let existing {
            guard existing.request == request else {
                if taken { release(orderID) }
                metrics.recordCreated(.conflict)
                return .conflict(existing)
            }
            metrics.recordCreated(.replayed)
            if taken {
                // The slot was free, so nothing drives this order: an unfinished one (found before start-up's
                // resumption reached it) is driven from here; a final one frees the slot.
                if existing.status.isFinal { release(orderID) } else { startsContinuation.yield(orderID) }
            }
            return .replayed(existing)
        }
        guard taken else {
            metrics.recordCreated(.busy)
            return .busy(inFlightMax: configuration.inFlightMax)
        }
        metrics.recordCreated(.placed)
        startsContinuation.yield(orderID)
        if waitForPayment { await waitForEnd(of: orderID, timeout: configuration.answerWait) }
        return .placed(try await store.load(orderID: orderID) ?? saga)
    }

    public func order(id: String) async throws -> CheckoutSaga? {
        try await store.load(orderID: id)
    }

    public func orders(userID: String, after cursor: String?, limit: Int) async throws -> OrderPage {
        try await store.orders(userID: userID, after: cursor, limit: limit)
    }

    /// Asks for the order to be cancelled: its saga compensates at its next step (only the task that drives a
    /// saga writes it, so the cancel goes through that task). A final order is left alone.
    public func cancel(id: String) async throws -> CancelOutcome {
        enum Slot { case running, taken, full }
        let slot = state.withLock { state -> Slot in
            if state.running[id] != nil {
                state.running[id]!.cancelRequested = true
                return .running
            }
            guard state.running.count < configuration.inFlightMax else { return .full }
            var entry = Running(startedAtMilliseconds: clock(), context: ServiceContext.current)
            entry.cancelRequested = true
            state.running[id] = entry
            return .taken
        }
        switch slot {
        case .full:
            return .busy(inFlightMax: configuration.inFlightMax)
        case .taken:
            // Not running: an unknown or final order frees the slot; an unfinished one is driven from here.
            let saga: CheckoutSaga?
            do {
                saga = try await store.load(orderID: id)
            } catch {
                release(id)
                throw error
            }
            guard let saga else {
                release(id)
                return .notFound
            }
            if saga.status.isFinal {
                release(id)
                return .alreadyFinal(saga)
            }
            startsContinuation.yield(id)
        case .running:
            break
        }
        await waitForEnd(of: id, timeout: configuration.answerWait)
        guard let saga = try await store.load(orderID: id) else { return .notFound }
        // The saga may have been confirmed before it saw the cancel.
        return saga.status == .confirmed ? .alreadyFinal(saga) : .accepted(saga)
    }

    // MARK: Running sagas

    /// Resumes the unfinished sagas of an earlier process, then runs every new one, until cancelled. Sagas
    /// stopped by the cancellation stay unfinished in the store and resume at the next start.
    public func run() async {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.resumeUnfinished() }
            group.addTask { await self.reportRunning() }
            for await orderID in starts {
                group.addTask { await self.drive(orderID) }
            }
        }
    }

    /// Feeds the store's unfinished sagas to the runner, as slots free up.
    func resumeUnfinished() async {
        var resumed = 0
        do {
            for saga in try await store.unfinished(limit: Int.max) {
                while !Task.isCancelled {
                    let taken = state.withLock { state -> Bool in
                        if state.running[saga.orderID] != nil { return true }
                        guard state.running.count < configuration.inFlightMax else { return false }
                        state.running[saga.orderID] = Running(startedAtMilliseconds: clock(), context: nil)
                        startsContinuation.yield(saga.orderID)
                        return true
                    }
                    if taken { break }
                    try await Task.sleep(for: .milliseconds(50))
                }
                resumed += 1
            }
        } catch {
            logger.error("cannot resume unfinished orders", metadata: ["error": "\(String(reflecting: error))"])
        }
        if resumed > 0 { logger.info("resumed unfinished orders", metadata: ["orders": "\(resumed)"]) }
    }

    /// Publishes the running count and the age of the oldest running saga (a stuck saga keeps it growing).
    func reportRunning() async {
        while !Task.isCancelled {
            let now = clock()
            let (count, oldest) = state.withLock { state in
                (state.running.count, state.running.values.map(\.startedAtMilliseconds).min())
            }
            metrics.recordRunning(count: count, oldestAgeMilliseconds: oldest.map { now - $0 } ?? 0)
            try? await Task.sleep(for: .seconds(1))
        }
    }

    /// Runs one saga to its end (or until the task is cancelled), in the context of the request that placed it.
    func drive(_ orderID: String) async {
        let context = state.withLock { $0.running[orderID]?.context }
        if let context {
            await ServiceContext.withValue(context) { await self.driveInContext(orderID) }
        } else {
            await driveInContext(orderID)
        }
    }

    private func driveInContext(_ orderID: String) async {
        defer { release(orderID) }
        var failures = 0
        var driven: DrivenSaga?
        // The compensation's calls run as children of one `saga.compensate` span.
        var compensation: (any Span)?
        defer { compensation?.end() }
        while !Task.isCancelled {
            do {
                if driven == nil { driven = try await store.load(orderID: orderID).map(DrivenSaga.init) }
                guard var current = driven else {
                    logger.error("an order to run is not in the store", metadata: ["order.id": "\(orderID)"])
                    return
                }
                if state.withLock({ $0.running[orderID]?.cancelRequested ?? false }) {
                    if case .accepted = current.cancel(now: clock()) { try await store.save(current.saga) }
                    // Cleared once written: a failed write reloads the saga and applies the cancel again.
                    driven = current
                    state.withLock { $0.running[orderID]?.cancelRequested = false }
                }
                let action: CheckoutAction
                if current.saga.status == .compensating, let tracer = runner.tracer {
                    if compensation == nil {
                        let span = tracer.startSpan("saga.compensate", ofKind: .internal)
                        span.updateAttributes { attributes in
                            attributes["order.id"] = orderID
                            attributes["saga.reason"] = current.saga.reason?.rawValue
                        }
                        compensation = span
                    }
                    action = try await ServiceContext.withValue(compensation!.context) {
                        try await runner.advance(&current)
                    }
                } else {
                    action = try await runner.advance(&current)
                }
                if let span = compensation, current.saga.status != .compensating {
                    span.attributes["order.status"] = current.saga.status.rawValue
                    span.end()
                    compensation = nil
                }
                driven = current
                failures = 0
                switch action {
                case .finished(let status):
                    metrics.recordSaga(
                        outcome: status,
                        durationMilliseconds: current.saga.updatedAtMilliseconds - current.saga.createdAtMilliseconds
                    )
                    return
                case .wait(let until):
                    try await Task.sleep(for: .milliseconds(max(until - clock(), 0)))
                case .call:
                    continue
                }
            } catch is CancellationError {
                return
            } catch {
                // A write failed: what is in memory may be ahead of the store. Reload, after a pause.
                failures += 1
                driven = nil
                if failures == 1 || failures % 100 == 0 {
                    logger.error(
                        "an order's state cannot be written; retrying",
                        metadata: ["order.id": "\(orderID)", "error": "\(String(reflecting: error))"]
                    )
                }
                try? await Task.sleep(for: .milliseconds(min(50 * Int64(failures), 2_000)))
            }
        }
    }

    /// Frees the saga's slot and wakes who waits for it.
    private func release(_ orderID: String) {
        let waiters = state.withLock { state -> [CheckedContinuation<Void, Never>] in
            guard let running = state.running.removeValue(forKey: orderID) else { return [] }
            for token in running.waiters.keys { state.pendingTokens.remove(token) }
            return Array(running.waiters.values)
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Returns when the saga is no longer running, or after `timeout`.
    private func waitForEnd(of orderID: String, timeout: Duration) async {
        await withTaskGroup(of: Void.self) { group in
            group.addTask { await self.endSignal(of: orderID) }
            group.addTask { try? await Task.sleep(for: timeout) }
            await group.next()
            group.cancelAll()
        }
    }

    private func endSignal(of orderID: String) async {
        let token = state.withLock { state in
            state.nextToken += 1
            state.pendingTokens.insert(state.nextToken)
            return state.nextToken
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let resumeNow = state.withLock { state -> Bool in
                    guard state.pendingTokens.contains(token), state.running[orderID] != nil else {
                        state.pendingTokens.remove(token)
                        return true
                    }
                    state.running[orderID]!.waiters[token] = continuation
                    return false
                }
                if resumeNow { continuation.resume() }
            }
        } onCancel: {
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.pendingTokens.remove(token)
                return state.running[orderID]?.waiters.removeValue(forKey: token)
            }
            waiter?.resume()
        }
    }

    /// The W3C trace id of the current context, as the runner's tracer would propagate it; nil when untraced.
    private func currentTraceID() -> String? {
        guard let tracer = runner.tracer, let context = ServiceContext.current else { return nil }
        var carrier: [String: String] = [:]
        tracer.inject(context, into: &carrier, using: TraceParentReader())
        // `00-<32 hex trace id>-<16 hex span id>-<flags>`.
        guard let header = carrier["traceparent"], header.utf8.count == 55 else { return nil }
        return String(header.dropFirst(3).prefix(32))
    }

    /// Sagas running now.
    public var runningCount: Int { state.withLock { $0.running.count } }
}

/// What placing an order answered.
public enum PlaceOutcome: Sendable {
    /// A new order; its saga runs (and may have ended, when the caller waited).
    case placed(CheckoutSaga)
    /// The same request was placed before: its order as it is now.
    case replayed(CheckoutSaga)
    /// The request id was used before with another payload.
    case conflict(CheckoutSaga)
    /// Too many sagas running; retry later.
    case busy(inFlightMax: Int)
    case invalid(OrderFieldError)
}

/// What a cancel answered.
public enum CancelOutcome: Sendable {
    /// Too many sagas running to start this one's compensation; retry later.
    case busy(inFlightMax: Int)
    /// The saga compensates (or already ended, when it finished meanwhile): the order as it is now.
    case accepted(CheckoutSaga)
    case alreadyFinal(CheckoutSaga)
    case notFound
}

extension Duration {
    /// Whole milliseconds.
    var milliseconds: Int64 {
        let parts = components
        return parts.seconds * 1_000 + parts.attoseconds / 1_000_000_000_000_000
    }
}

/// Reads what a tracer injects into a dictionary.
private struct TraceParentReader: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) { carrier[key] = value }
}
