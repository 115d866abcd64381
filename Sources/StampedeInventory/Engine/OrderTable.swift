/// The order records, split into shards by order id.
///
/// A single dictionary of millions of records doubles and rehashes everything at once, stalling every
/// request behind the engine lock for tens of milliseconds; shards grow one at a time, each a 64th of the size.
struct OrderTable: Sendable {
    static let shardCount = 64  // 2^6, matching the shift in shard(of:)
    private var shards = [[String: OrderRecord]](repeating: [:], count: OrderTable.shardCount)
    private(set) var count = 0

    /// The top bits of the hash pick the shard: the dictionaries index buckets by the low bits, which must stay
    /// spread out inside each shard.
    private static func shard(of orderID: String) -> Int {
        Int(UInt(bitPattern: orderID.hashValue) >> (UInt.bitWidth - 6))
    }

    subscript(orderID: String) -> OrderRecord? {
        get { shards[Self.shard(of: orderID)][orderID] }
        set {
            let index = Self.shard(of: orderID)
            let before = shards[index].count
            shards[index][orderID] = newValue
            count += shards[index].count - before
        }
    }

    var values: some Sequence<OrderRecord> { shards.lazy.flatMap(\.values) }
}
