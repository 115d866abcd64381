/// The ledger's tables, created by numbered migrations at start-up (see ``PostgresLedger/migrate()``).
///
/// | table | key | holds |
/// |---|---|---|
/// | `items` | (sku, generation) | each create/reset of an item: its stock, cap and window |
/// | `sales` | order_id | each acknowledged deduct: the seed's log record plus the generation; a reservation has `hold_until` |
/// | `confirmations` | order_id | each reservation made final |
/// | `releases` | order_id | each return of an order's units: `reason` is `release`, or `expire` when a hold passed its deadline |
/// | `stampede_schema_migrations` | version | the migrations applied |
///
/// Times are `timestamptz`; `recorded_at` is when the row reached the ledger, so `recorded_at - sold_at` is the
/// write-behind lag.
enum LedgerSchema {
    /// Serializes migrations of concurrent instances (`pg_advisory_xact_lock`).
    static let advisoryLock: Int64 = 0x5354_4D50_4C44_4752  // "STMPLDGR"

    static let migrations: [(version: Int, statements: [String])] = [
        (
            1,
            [
                """
                CREATE TABLE items (
                    sku text NOT NULL,
                    generation bigint NOT NULL CHECK (generation >= 1),
                    stock bigint NOT NULL CHECK (stock >= 0),
                    limit_per_user bigint,
                    rate_window_ms bigint NOT NULL,
                    put_at timestamptz NOT NULL,
                    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp(),
                    PRIMARY KEY (sku, generation)
                )
                """,
                """
                CREATE TABLE sales (
                    order_id text PRIMARY KEY,
                    sku text NOT NULL,
                    generation bigint NOT NULL,
                    user_id text NOT NULL,
                    amount bigint NOT NULL CHECK (amount > 0),
                    old_stock bigint NOT NULL,
                    new_stock bigint NOT NULL,
                    sold_at timestamptz NOT NULL,
                    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
                )
                """,
                "CREATE INDEX sales_sku_generation ON sales (sku, generation)",
                """
                CREATE TABLE releases (
                    order_id text PRIMARY KEY,
                    sku text NOT NULL,
                    generation bigint NOT NULL,
                    amount bigint NOT NULL CHECK (amount > 0),
                    released_at timestamptz NOT NULL,
                    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
                )
                """,
                "CREATE INDEX releases_sku_generation ON releases (sku, generation)",
            ]
        ),
        (
            2,
            [
                "ALTER TABLE sales ADD COLUMN hold_until timestamptz",
                """
                ALTER TABLE releases ADD COLUMN reason text NOT NULL DEFAULT 'release'
                    CHECK (reason IN ('release', 'expire'))
                """,
                """
                CREATE TABLE confirmations (
                    order_id text PRIMARY KEY,
                    sku text NOT NULL,
                    generation bigint NOT NULL,
                    amount bigint NOT NULL CHECK (amount > 0),
                    confirmed_at timestamptz NOT NULL,
                    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
                )
                """,
            ]
        ),
    ]
}
