/// The inventory state machine: items, order records and the rules of a deduct. No I/O, no locks, no clock.
///
/// Each mutating call returns the outcome and, when state changed, the ``JournalRecord`` that makes the change
/// durable. Replaying those records with ``replay(_:)`` rebuilds the same state. The caller owns locking and
/// durability (see ``EmbeddedInventoryStore``).
public struct InventoryEngine: Sendable {
    public let limits: InventoryLimits
    private var items: [String: Item] = [:]
    private var orders = OrderTable()
    private var holds = HoldDeadlines()

    public init(limits: InventoryLimits = .default) {
        self.limits = limits
    }

    public var itemCount: Int { items.count }
    public var orderCount: Int { orders.count }
    /// Deadline entries waiting in the expiry index (live holds, plus confirmed or released ones not yet due).
    public var holdDeadlineCount: Int { holds.count }

    public func item(_ sku: String) -> ItemSnapshot? {
        items[sku]?.snapshot
    }

    /// The order logged under `orderID`; nil for an unknown id or a barrier.
    public func order(_ orderID: String) -> OrderRecord? {
        orders[orderID].flatMap { $0.isBarrier ? nil : $0 }
    }

    /// Creates the item, or resets it to a new generation: stock, sold and per-user counts start over.
    public mutating func put(
        sku: String,
        config: ItemConfig,
        now: Int64
    ) -> (PutItemOutcome, JournalRecord?) {
        let generation: UInt64
        if let existing = items[sku] {
            generation = existing.generation + 1
        } else {
            guard items.count < limits.itemsMax else { return (.tooManyItems(max: limits.itemsMax), nil) }
            generation = 1
        }
        let record = JournalRecord.putItem(sku: sku, config: config, generation: generation, timestampMilliseconds: now)
        applyPut(sku: sku, config: config, generation: generation)
        let snapshot = items[sku]!.snapshot
        return (generation == 1 ? .created(snapshot) : .reset(snapshot), record)
    }

    /// Checks, in order: order id (replay or conflict), item, rate window, per-user cap, stock, capacity.
    ///
    /// The order id comes first so that a client retrying after a timeout gets its original answer rather than
    /// `rate_limited`; only then are the user and the stock checked, and state is written last.
    public mutating func deduct(_ request: DeductRequest, now: Int64) -> (DeductOutcome, JournalRecord?) {
        if let existing = orders[request.orderID] {
            if existing.isBarrier { return (DeductOutcome(code: .orderCancelled), nil) }
            guard existing.matches(request) else { return (DeductOutcome(code: .orderConflict), nil) }
            let outcome = DeductOutcome(
                code: .success,
                stock: existing.newStock,
                replayed: true,
                holdDeadlineMilliseconds: existing.holdDeadlineMilliseconds
            )
            return (outcome, nil)
        }
        guard var item = items[request.sku] else { return (DeductOutcome(code: .stockNotFound), nil) }
        // Take the item out of the table while it changes, so the dictionaries inside it are not copied.
        items[request.sku] = nil
        defer { items[request.sku] = item }

        guard
            item.rateWindow.admit(
                userID: request.userID,
                now: now,
                windowMilliseconds: item.config.rateWindowMilliseconds,
                usersMax: limits.rateWindowUsersMax
            )
        else { return (DeductOutcome(code: .rateLimited), nil) }
        if let cap = item.config.limitPerUser {
            let held = item.purchasedByUser[request.userID] ?? 0
            guard held + request.amount <= cap else { return (DeductOutcome(code: .userLimitExceeded), nil) }
        }
        guard item.stock >= request.amount else {
            return (DeductOutcome(code: .insufficientStock, stock: item.stock), nil)
        }
        guard orders.count < limits.orderRecordsMax else { return (DeductOutcome(code: .capacityExhausted), nil) }

        let order = OrderRecord(
            orderID: request.orderID,
            sku: request.sku,
            userID: request.userID,
            amount: request.amount,
            oldStock: item.stock,
            newStock: item.stock - request.amount,
            timestampMilliseconds: now,
            generation: item.generation,
            released: false,
            holdDeadlineMilliseconds: request.holdMilliseconds.map { now + $0 }
        )
        Self.take(order, from: &item)
        orders[order.orderID] = order
        if let deadline = order.holdDeadlineMilliseconds { holds.insert(orderID: order.orderID, deadline: deadline) }
        let outcome = DeductOutcome(
            code: .success,
            stock: order.newStock,
            holdDeadlineMilliseconds: order.holdDeadlineMilliseconds
        )
        return (outcome, .deduct(order))
    }

    /// Makes a reservation's sale final, if its hold is still live. A hold whose deadline has passed expires
    /// here (its units return, as the expiry sweep would have done) and the confirm is refused: the deadline
    /// decides, not when the sweep runs.
    public mutating func confirm(orderID: String, now: Int64) -> (ConfirmOutcome, JournalRecord?) {
        guard var order = orders[orderID], !order.isBarrier else { return (ConfirmOutcome(code: .orderNotFound), nil) }
        let answer = { (code: ConfirmCode) in ConfirmOutcome(code: code, sku: order.sku, amount: order.amount) }
        guard let deadline = order.holdDeadlineMilliseconds else { return (answer(.notAReservation), nil) }
        if order.confirmed { return (answer(.alreadyConfirmed), nil) }
        if order.released { return (answer(order.expired ? .holdExpired : .orderReleased), nil) }
        guard var item = items[order.sku], item.generation == order.generation else {
            return (answer(.orderSuperseded), nil)
        }
        items[order.sku] = nil
        defer { items[order.sku] = item }
        if now >= deadline {
            Self.giveBack(order, to: &item)
            order.released = true
            order.expired = true
            orders[orderID] = order
            return (answer(.holdExpired), .expire(orderID: orderID, timestampMilliseconds: now))
        }
        Self.settle(order, in: &item)
        order.confirmed = true
        orders[orderID] = order
        return (answer(.confirmed), .confirm(orderID: orderID, timestampMilliseconds: now))
    }

    /// Returns the units of up to `max` holds whose deadline is at or before `now`, earliest first, each with the
    /// record that makes its expiry durable.
    public mutating func expireDue(now: Int64, max: Int) -> [(ExpiredHold, JournalRecord)] {
        var expired: [(ExpiredHold, JournalRecord)] = []
        // Entries of holds confirmed or released since are skipped, but counted too: one call's work (under the
        // store's lock) stays bounded however many of them come due together.
        var popped = 0
        while expired.count < max, popped < max * 4, let orderID = holds.popDue(now: now) {
            popped += 1
            guard var order = orders[orderID], order.isLiveHold,
                var item = items[order.sku], item.generation == order.generation
            else { continue }
            items[order.sku] = nil
            Self.giveBack(order, to: &item)
            items[order.sku] = item
            order.released = true
            order.expired = true
            orders[orderID] = order
            expired.append(
                (
                    ExpiredHold(orderID: orderID, sku: order.sku, amount: order.amount, stock: item.stock),
                    .expire(orderID: orderID, timestampMilliseconds: now)
                )
            )
        }
        return expired
    }

    /// The earliest deadline in the expiry index (it may belong to a hold no longer live).
    public var earliestHoldDeadline: Int64? { holds.earliest }

    /// Returns an order's units to stock, exactly once. With `recordingIfUnknown`, a release of an id never seen
    /// leaves a barrier, so a reservation arriving later under it is refused (a saga's compensation that overtook
    /// its action); the barrier counts against `orderRecordsMax`.
    public mutating func release(
        orderID: String,
        now: Int64,
        recordingIfUnknown: Bool = false
    ) -> (ReleaseOutcome, JournalRecord?) {
        guard var order = orders[orderID] else {
            guard recordingIfUnknown, orders.count < limits.orderRecordsMax else {
                return (ReleaseOutcome(code: .orderNotFound), nil)
            }
            orders[orderID] = .barrier(orderID: orderID, timestampMilliseconds: now)
            return (ReleaseOutcome(code: .orderNotFound), .barrier(orderID: orderID, timestampMilliseconds: now))
        }
        if order.isBarrier { return (ReleaseOutcome(code: .orderNotFound), nil) }
        guard var item = items[order.sku] else {
            preconditionFailure("an order always names an existing item")
        }
        guard !order.released else {
            return (ReleaseOutcome(code: .alreadyReleased, stock: item.stock, sku: item.sku), nil)
        }
        guard order.generation == item.generation else {
            return (ReleaseOutcome(code: .orderSuperseded, stock: item.stock, sku: item.sku), nil)
        }
        items[order.sku] = nil
        Self.giveBack(order, to: &item)
        order.released = true
        orders[orderID] = order
        items[order.sku] = item
        let outcome = ReleaseOutcome(code: .released, releasedAmount: order.amount, stock: item.stock, sku: item.sku)
        return (outcome, .release(orderID: orderID, timestampMilliseconds: now))
    }

    /// Every item with its generation and initial stock, for reconciliation.
    public func itemStates() -> [ItemState] {
        items.values.map {
            ItemState(
                sku: $0.sku,
                generation: $0.generation,
                initialStock: $0.config.stock,
                stock: $0.stock,
                sold: $0.sold,
                reserved: $0.reserved
            )
        }
    }

    /// Applies a record read back from the journal or a snapshot. Throws when it contradicts the state.
    public mutating func replay(_ record: JournalRecord) throws(JournalReplayError) {
        switch record {
        case .putItem(let sku, let config, let generation, _):
            applyPut(sku: sku, config: config, generation: generation)
        case .barrier(let orderID, let timestamp):
            guard orders[orderID] == nil else { throw JournalReplayError("barrier on a known order \(orderID)") }
            orders[orderID] = .barrier(orderID: orderID, timestampMilliseconds: timestamp)
        case .deduct(let order):
            guard orders[order.orderID] == nil else { throw JournalReplayError("order \(order.orderID) logged twice") }
            guard var item = items[order.sku] else { throw JournalReplayError("order for unknown item \(order.sku)") }
            // Orders of an older generation are kept for idempotency only: their units left with that stock.
            if order.generation == item.generation {
                guard item.stock >= order.amount else { throw JournalReplayError("order \(order.orderID) oversells") }
                // A snapshot writes an order with its final state: apply the deduct, then what happened since.
                var state = order.asCreated
                items[order.sku] = nil
                Self.take(state, from: &item)
                if order.confirmed {
                    Self.settle(state, in: &item)
                    state.confirmed = true
                }
                if order.released { Self.giveBack(state, to: &item) }
                items[order.sku] = item
                if let deadline = order.holdDeadlineMilliseconds, order.isLiveHold {
                    holds.insert(orderID: order.orderID, deadline: deadline)
                }
            }
            orders[order.orderID] = order
        case .release(let orderID, _):
            try replayChange(of: orderID, "release", applies: \.isUnreleased) { order, item in
                Self.giveBack(order, to: &item)
                order.released = true
            }
        case .confirm(let orderID, _):
            try replayChange(of: orderID, "confirm", applies: \.isLiveHold) { order, item in
                Self.settle(order, in: &item)
                order.confirmed = true
            }
        case .expire(let orderID, _):
            try replayChange(of: orderID, "expiry", applies: \.isLiveHold) { order, item in
                Self.giveBack(order, to: &item)
                order.released = true
                order.expired = true
            }
        case .ledgerAcknowledged, .traceContext:
            // Ledger progress and trace context, not inventory state: the data directory tracks them.
            break
        }
    }

    /// Replays a change of an existing order of the item's current generation; throws when the order is unknown,
    /// in a state the change does not apply to, or of an older generation.
    private mutating func replayChange(
        of orderID: String,
        _ change: String,
        applies: (OrderRecord) -> Bool,
        _ apply: (inout OrderRecord, inout Item) -> Void
    ) throws(JournalReplayError) {
        guard var order = orders[orderID], applies(order) else {
            throw JournalReplayError("\(change) of an unknown order or one it does not apply to: \(orderID)")
        }
        guard var item = items[order.sku], item.generation == order.generation else {
            throw JournalReplayError("\(change) of superseded order \(orderID)")
        }
        apply(&order, &item)
        items[order.sku] = item
        orders[orderID] = order
    }

    /// The records that rebuild this state from nothing: every item's put, then every order.
    public func snapshotRecords() -> [JournalRecord] {
        var records: [JournalRecord] = []
        records.reserveCapacity(items.count + orders.count)
        for item in items.values {
            records.append(
                .putItem(sku: item.sku, config: item.config, generation: item.generation, timestampMilliseconds: 0)
            )
        }
        for order in orders.values {
            records.append(
                order.isBarrier
                    ? .barrier(orderID: order.orderID, timestampMilliseconds: order.timestampMilliseconds)
                    : .deduct(order)
            )
        }
        return records
    }

    /// Items, for metrics and reconciliation.
    public func allItems() -> [ItemSnapshot] {
        items.values.map(\.snapshot)
    }

    private mutating func applyPut(sku: String, config: ItemConfig, generation: UInt64) {
        items[sku] = Item(sku: sku, config: config, generation: generation)
    }

    /// Takes a new order's units out of the stock: into `reserved` for a reservation, `sold` for a deduct.
    private static func take(_ order: OrderRecord, from item: inout Item) {
        precondition(item.stock >= order.amount, "a deduct never takes more than the stock")
        item.stock -= order.amount
        if order.isReservation {
            item.reserved += order.amount
        } else {
            item.sold += order.amount
        }
        // Only capped items need per-user counts; a reset (the only way to change the cap) clears them.
        if item.config.limitPerUser != nil { item.purchasedByUser[order.userID, default: 0] += order.amount }
        item.assertInvariants()
    }

    /// A live hold's units become sold.
    private static func settle(_ order: OrderRecord, in item: inout Item) {
        precondition(order.isLiveHold && item.reserved >= order.amount, "only a live hold settles")
        item.reserved -= order.amount
        item.sold += order.amount
        item.assertInvariants()
    }

    /// Returns an order's units to stock, from `reserved` while its hold is live, else from `sold`.
    private static func giveBack(_ order: OrderRecord, to item: inout Item) {
        precondition(!order.released, "units return once")
        item.stock += order.amount
        if order.isLiveHold {
            item.reserved -= order.amount
        } else {
            item.sold -= order.amount
        }
        if item.config.limitPerUser != nil {
            let held = (item.purchasedByUser[order.userID] ?? 0) - order.amount
            item.purchasedByUser[order.userID] = held > 0 ? held : nil
        }
        item.assertInvariants()
    }
}

/// A journal record that cannot apply to the state rebuilt so far: the data on disk is inconsistent.
public struct JournalReplayError: Error, Sendable, CustomStringConvertible {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { "journal replay failed: \(reason)" }
}
