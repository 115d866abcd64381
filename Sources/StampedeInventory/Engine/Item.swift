/// The live state of one SKU inside the engine.
struct Item: Sendable {
    var sku: String
    /// The rules and the stock set by the last put; `config.stock` is the generation's initial stock.
    var config: ItemConfig
    var stock: Int64
    var sold: Int64
    /// Starts at 1 and grows by one on every reset.
    var generation: UInt64
    /// Units each user holds of this generation (released orders excluded).
    var purchasedByUser: [String: Int64] = [:]
    /// Not durable: a restart opens every window again.
    var rateWindow = RateWindow()

    init(sku: String, config: ItemConfig, generation: UInt64) {
        self.sku = sku
        self.config = config
        self.stock = config.stock
        self.sold = 0
        self.generation = generation
    }

    var snapshot: ItemSnapshot {
        ItemSnapshot(
            sku: sku,
            stock: stock,
            sold: sold,
            limitPerUser: config.limitPerUser,
            rateWindowMilliseconds: config.rateWindowMilliseconds
        )
    }

    func assertInvariants() {
        assert(stock >= 0 && sold >= 0, "stock and sold never go below zero")
        assert(stock + sold == config.stock, "every unit of the generation is either in stock or sold")
    }
}
