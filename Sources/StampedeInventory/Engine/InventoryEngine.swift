/// The inventory state machine: items, order records and the rules of a deduct. No I/O, no locks, no clock.
///
/// Each mutating call returns the outcome and, when state changed, the ``JournalRecord`` that makes the change
/// durable. Replaying those records with ``replay(_:)`` rebuilds the same state. The caller owns locking and
/// durability (see ``EmbeddedInventoryStore``).
public struct InventoryEngine: Sendable {
    public let limits: InventoryLimits
    private var items: [String: Item] = [:]
    private var orders = OrderTable()

    public init(limits: InventoryLimits = .default) {
        self.limits = limits
    }

    public var itemCount: Int { items.count }
    public var orderCount: Int { orders.count }

    public func item(_ sku: String) -> ItemSnapshot? {
        items[sku]?.snapshot
    }

    public func order(_ orderID: String) -> OrderRecord? {
        orders[orderID]
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
            guard existing.matches(request) else { return (DeductOutcome(code: .orderConflict), nil) }
            return (DeductOutcome(code: .success, stock: existing.newStock, replayed: true), nil)
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
            released: false
        )
        Self.take(order, from: &item)
        orders[order.orderID] = order
        return (DeductOutcome(code: .success, stock: order.newStock), .deduct(order))
    }

    /// Returns an order's units to stock, exactly once.
    public mutating func release(orderID: String, now: Int64) -> (ReleaseOutcome, JournalRecord?) {
        guard var order = orders[orderID] else { return (ReleaseOutcome(code: .orderNotFound), nil) }
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
                sold: $0.sold
            )
        }
    }

    /// Applies a record read back from the journal or a snapshot. Throws when it contradicts the state.
    public mutating func replay(_ record: JournalRecord) throws(JournalReplayError) {
        switch record {
        case .putItem(let sku, let config, let generation, _):
            applyPut(sku: sku, config: config, generation: generation)
        case .deduct(var order):
            guard orders[order.orderID] == nil else { throw JournalReplayError("order \(order.orderID) logged twice") }
            guard var item = items[order.sku] else { throw JournalReplayError("order for unknown item \(order.sku)") }
            let released = order.released
            order.released = false
            // Orders of an older generation are kept for idempotency only: their units left with that stock.
            if order.generation == item.generation {
                guard item.stock >= order.amount else { throw JournalReplayError("order \(order.orderID) oversells") }
                items[order.sku] = nil
                Self.take(order, from: &item)
                if released { Self.giveBack(order, to: &item) }
                items[order.sku] = item
            }
            order.released = released
            orders[order.orderID] = order
        case .release(let orderID, _):
            guard var order = orders[orderID], !order.released else {
                throw JournalReplayError("release of unknown or released order \(orderID)")
            }
            guard var item = items[order.sku], item.generation == order.generation else {
                throw JournalReplayError("release of superseded order \(orderID)")
            }
            Self.giveBack(order, to: &item)
            items[order.sku] = item
            order.released = true
            orders[orderID] = order
        case .ledgerAcknowledged, .traceContext:
            // Ledger progress and trace context, not inventory state: the data directory tracks them.
            break
        }
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
            records.append(.deduct(order))
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

    private static func take(_ order: OrderRecord, from item: inout Item) {
        precondition(item.stock >= order.amount, "a deduct never takes more than the stock")
        item.stock -= order.amount
        item.sold += order.amount
        // Only capped items need per-user counts; a reset (the only way to change the cap) clears them.
        if item.config.limitPerUser != nil { item.purchasedByUser[order.userID, default: 0] += order.amount }
        item.assertInvariants()
    }

    private static func giveBack(_ order: OrderRecord, to item: inout Item) {
        item.stock += order.amount
        item.sold -= order.amount
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
