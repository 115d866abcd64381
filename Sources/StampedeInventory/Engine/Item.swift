/// The live state of one SKU inside the engine.
struct Item: Sendable {
    var sku: String
    /// The rules and the stock set by the last put; `config.stock` is the generation's initial stock.
    var config: ItemConfig
    var stock: Int64
    var sold: Int64
    /// Units set aside by live holds: out of the stock, not yet sold.
    var reserved: Int64 = 0
    /// Starts at 1 and grows by one on every reset.
    var generation: UInt64
    /// Units each user holds of this generation, sold or reserved (released orders excluded).
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
            reserved: reserved,
            limitPerUser: config.limitPerUser,
            rateWindowMilliseconds: config.rateWindowMilliseconds
        )
    }

    func assertInvariants() {
        assert(stock >= 0 && sold >= 0 && reserved >= 0, "stock, sold and reserved never go below zero")
        assert(stock + reserved + sold == config.stock, "every unit of the generation is in stock, reserved or sold")
    }
}
