import Logging
import PostgresNIO
import StampedeInventory

/// The ledger in PostgreSQL: every item put, sale or reservation, confirm, release and expiry, written
/// idempotently in batches.
///
/// Rows are keyed by what identifies the change (`order_id` for sales and releases, `(sku, generation)` for
/// items) and inserted with `ON CONFLICT DO NOTHING`, so an entry delivered twice (a worker killed between the
/// commit and the acknowledgement) is written once. Call ``run()`` in a long-running task before using it.
public final class PostgresLedger: Sendable {
    public let configuration: PostgresLedgerConfiguration
    private let client: PostgresClient
    private let logger: Logger

    public init(configuration: PostgresLedgerConfiguration, logger: Logger) {
        self.configuration = configuration
        self.client = PostgresClient(configuration: configuration.clientConfiguration, backgroundLogger: logger)
        self.logger = logger
    }

    /// Runs the connection pool until the task is cancelled.
    public func run() async {
        await client.run()
    }

    /// Applies the migrations this version knows and the database lacks, in one transaction under an advisory
    /// lock, so instances starting together do not race. Returns the schema version.
    @discardableResult
    public func migrate() async throws -> Int {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(LedgerSchema.advisoryLock))", logger: logger)
            try await connection.query(
                """
                CREATE TABLE IF NOT EXISTS stampede_schema_migrations (
                    version integer PRIMARY KEY,
                    applied_at timestamptz NOT NULL DEFAULT now()
                )
                """,
                logger: logger
            )
            var current = 0
            for try await version in try await connection.query(
                "SELECT COALESCE(max(version), 0)::int8 FROM stampede_schema_migrations",
                logger: logger
            ).decode(Int64.self) {
                current = Int(version)
            }
            for migration in LedgerSchema.migrations where migration.version > current {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query(
                    "INSERT INTO stampede_schema_migrations (version) VALUES (\(migration.version))",
                    logger: logger
                )
                logger.info("ledger schema migrated", metadata: ["version": "\(migration.version)"])
                current = migration.version
            }
            return current
        }
    }

    /// Writes the entries in one transaction; returns how many rows were new (the rest were already there).
    public func write(_ entries: [LedgerEntry]) async throws -> Int {
        var items = ItemColumns()
        var sales = SaleColumns()
        var releases = ReleaseColumns()
        var confirmations = ReleaseColumns()
        for entry in entries {
            switch entry.event {
            case .item(let sku, let generation, let config, let timestamp):
                items.append(sku: sku, generation: generation, config: config, timestamp: timestamp)
            case .sale(let order):
                sales.append(order)
            case .release(let orderID, let sku, let generation, let amount, let timestamp):
                releases.append(
                    orderID: orderID,
                    sku: sku,
                    generation: generation,
                    amount: amount,
                    timestamp: timestamp,
                    reason: "release"
                )
            case .expire(let orderID, let sku, let generation, let amount, let timestamp):
                releases.append(
                    orderID: orderID,
                    sku: sku,
                    generation: generation,
                    amount: amount,
                    timestamp: timestamp,
                    reason: "expire"
                )
            case .confirm(let orderID, let sku, let generation, let amount, let timestamp):
                confirmations.append(
                    orderID: orderID,
                    sku: sku,
                    generation: generation,
                    amount: amount,
                    timestamp: timestamp,
                    reason: ""
                )
            }
        }
        if entries.isEmpty { return 0 }
        let logger = self.logger
        return try await client.withTransaction(logger: logger) { connection in
            var inserted = 0
            if !items.sku.isEmpty {
                inserted += try await Self.count(
                    connection.query(
                        """
                        WITH ins AS (
                            INSERT INTO items (sku, generation, stock, limit_per_user, rate_window_ms, put_at)
                            SELECT u.sku, u.g, u.st, NULLIF(u.lim, -1), u.w, to_timestamp(u.t / 1000.0)
                            FROM unnest(\(items.sku)::text[], \(items.generation)::int8[], \(items.stock)::int8[],
                                        \(items.limit)::int8[], \(items.window)::int8[], \(items.time)::int8[])
                                 AS u(sku, g, st, lim, w, t)
                            ON CONFLICT DO NOTHING RETURNING 1)
                        SELECT count(*)::int8 FROM ins
                        """,
                        logger: logger
                    )
                )
            }
            if !sales.orderID.isEmpty {
                inserted += try await Self.count(
                    connection.query(
                        """
                        WITH ins AS (
                            INSERT INTO sales (order_id, sku, generation, user_id, amount, old_stock, new_stock, sold_at,
                                               hold_until)
                            SELECT u.o, u.s, u.g, u.u, u.a, u.os, u.ns, to_timestamp(u.t / 1000.0),
                                   to_timestamp(NULLIF(u.h, -1) / 1000.0)
                            FROM unnest(\(sales.orderID)::text[], \(sales.sku)::text[], \(sales.generation)::int8[],
                                        \(sales.userID)::text[], \(sales.amount)::int8[], \(sales.oldStock)::int8[],
                                        \(sales.newStock)::int8[], \(sales.time)::int8[], \(sales.holdUntil)::int8[])
                                 AS u(o, s, g, u, a, os, ns, t, h)
                            ON CONFLICT DO NOTHING RETURNING 1)
                        SELECT count(*)::int8 FROM ins
                        """,
                        logger: logger
                    )
                )
            }
            if !releases.orderID.isEmpty {
                inserted += try await Self.count(
                    connection.query(
                        """
                        WITH ins AS (
                            INSERT INTO releases (order_id, sku, generation, amount, released_at, reason)
                            SELECT u.o, u.s, u.g, u.a, to_timestamp(u.t / 1000.0), u.r
                            FROM unnest(\(releases.orderID)::text[], \(releases.sku)::text[],
                                        \(releases.generation)::int8[], \(releases.amount)::int8[],
                                        \(releases.time)::int8[], \(releases.reason)::text[])
                                 AS u(o, s, g, a, t, r)
                            ON CONFLICT DO NOTHING RETURNING 1)
                        SELECT count(*)::int8 FROM ins
                        """,
                        logger: logger
                    )
                )
            }
            if !confirmations.orderID.isEmpty {
                inserted += try await Self.count(
                    connection.query(
                        """
                        WITH ins AS (
                            INSERT INTO confirmations (order_id, sku, generation, amount, confirmed_at)
                            SELECT u.o, u.s, u.g, u.a, to_timestamp(u.t / 1000.0)
                            FROM unnest(\(confirmations.orderID)::text[], \(confirmations.sku)::text[],
                                        \(confirmations.generation)::int8[], \(confirmations.amount)::int8[],
                                        \(confirmations.time)::int8[])
                                 AS u(o, s, g, a, t)
                            ON CONFLICT DO NOTHING RETURNING 1)
                        SELECT count(*)::int8 FROM ins
                        """,
                        logger: logger
                    )
                )
            }
            return inserted
        }
    }

    /// Each SKU's latest generation in the ledger: its initial stock and units taken (sales and reservations minus
    /// releases and expiries).
    public func totals() async throws -> [LedgerItemTotals] {
        let rows = try await client.query(
            """
            SELECT i.sku, i.generation, i.stock,
                   (COALESCE((SELECT sum(s.amount) FROM sales s WHERE s.sku = i.sku AND s.generation = i.generation), 0)
                  - COALESCE((SELECT sum(r.amount) FROM releases r
                              WHERE r.sku = i.sku AND r.generation = i.generation), 0))::int8
            FROM (SELECT DISTINCT ON (sku) sku, generation, stock FROM items ORDER BY sku, generation DESC) i
            ORDER BY i.sku
            """,
            logger: logger
        )
        var totals: [LedgerItemTotals] = []
        for try await (sku, generation, stock, sold) in rows.decode((String, Int64, Int64, Int64).self) {
            totals.append(
                LedgerItemTotals(sku: sku, generation: UInt64(generation), initialStock: stock, sold: sold)
            )
        }
        return totals
    }

    /// One round trip, for readiness.
    public func ping() async throws {
        try await client.query("SELECT 1", logger: logger)
    }

    /// Whether PostgreSQL refused the data itself (SQLSTATE class 22 or 23), so retrying the same rows cannot
    /// succeed; anything else (connection lost, server restarting) is worth retrying.
    public static func refusedData(_ error: any Error) -> Bool {
        if let transaction = error as? PostgresTransactionError {
            return transaction.closureError.map(refusedData) ?? false
        }
        guard let error = error as? PSQLError, let state = error.serverInfo?[.sqlState] else { return false }
        return state.hasPrefix("22") || state.hasPrefix("23")
    }

    private static func count(_ rows: PostgresRowSequence) async throws -> Int {
        var total = 0
        for try await count in rows.decode(Int64.self) { total += Int(count) }
        return total
    }
}

/// An item's latest generation as the ledger knows it.
public struct LedgerItemTotals: Sendable, Hashable {
    public var sku: String
    public var generation: UInt64
    public var initialStock: Int64
    /// Units out of the stock: sold, or held by a reservation (rows of `sales` minus rows of `releases`).
    public var sold: Int64

    public init(sku: String, generation: UInt64, initialStock: Int64, sold: Int64) {
        self.sku = sku
        self.generation = generation
        self.initialStock = initialStock
        self.sold = sold
    }
}

private struct ItemColumns {
    var sku: [String] = []
    var generation: [Int64] = []
    var stock: [Int64] = []
    var limit: [Int64] = []
    var window: [Int64] = []
    var time: [Int64] = []

    mutating func append(sku: String, generation: UInt64, config: ItemConfig, timestamp: Int64) {
        self.sku.append(sku)
        self.generation.append(Int64(generation))
        stock.append(config.stock)
        limit.append(config.limitPerUser ?? -1)
        window.append(config.rateWindowMilliseconds)
        time.append(timestamp)
    }
}

private struct SaleColumns {
    var orderID: [String] = []
    var sku: [String] = []
    var generation: [Int64] = []
    var userID: [String] = []
    var amount: [Int64] = []
    var oldStock: [Int64] = []
    var newStock: [Int64] = []
    var time: [Int64] = []
    /// The hold's deadline (ms), or -1 for a plain sale.
    var holdUntil: [Int64] = []

    mutating func append(_ order: OrderRecord) {
        orderID.append(order.orderID)
        sku.append(order.sku)
        generation.append(Int64(order.generation))
        userID.append(order.userID)
        amount.append(order.amount)
        oldStock.append(order.oldStock)
        newStock.append(order.newStock)
        time.append(order.timestampMilliseconds)
        holdUntil.append(order.holdDeadlineMilliseconds ?? -1)
    }
}

private struct ReleaseColumns {
    var orderID: [String] = []
    var sku: [String] = []
    var generation: [Int64] = []
    var amount: [Int64] = []
    var time: [Int64] = []
    var reason: [String] = []

    mutating func append(
        orderID: String,
        sku: String,
        generation: UInt64,
        amount: Int64,
        timestamp: Int64,
        reason: String
    ) {
        self.orderID.append(orderID)
        self.sku.append(sku)
        self.generation.append(Int64(generation))
        self.amount.append(amount)
        time.append(timestamp)
        self.reason.append(reason)
    }
}
