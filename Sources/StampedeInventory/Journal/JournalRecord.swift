import StampedeJournal

/// One change to the inventory, as written to the journal and the snapshot.
///
/// Replaying the records of a journal in order rebuilds the engine exactly; see ``InventoryEngine/replay(_:)``.
public enum JournalRecord: Sendable, Hashable {
    /// An item was created or reset to `config`, starting `generation`.
    case putItem(sku: String, config: ItemConfig, generation: UInt64, timestampMilliseconds: Int64)
    /// A deduct succeeded. A snapshot writes released orders with `released == true`.
    case deduct(OrderRecord)
    /// An order's units went back to stock.
    case release(orderID: String, timestampMilliseconds: Int64)
    /// A reservation's hold became a sale.
    case confirm(orderID: String, timestampMilliseconds: Int64)
    /// A reservation's deadline passed: its units went back to stock.
    case expire(orderID: String, timestampMilliseconds: Int64)
    /// A release of an unknown order id came first: the id is closed (``OrderRecord/isBarrier``).
    case barrier(orderID: String, timestampMilliseconds: Int64)
    /// Every ledger entry up to this journal sequence number is in the PostgreSQL ledger.
    case ledgerAcknowledged(throughSeq: UInt64)
    /// The W3C `traceparent` of the sampled request that wrote the ledger entry at journal sequence number `seq`,
    /// so that the entry's `ledger.write` span joins the request's trace after a restart too.
    case traceContext(seq: UInt64, traceParent: String)

    enum Kind: UInt8 {
        case putItem = 1
        case deduct = 2
        case release = 3
        case ledgerAcknowledged = 4
        case traceContext = 5
        case confirm = 6
        case expire = 7
        case barrier = 8
    }

    /// Flags after a reservation's deadline in a deduct payload.
    enum HoldFlags {
        static let confirmed: UInt8 = 1
        static let expired: UInt8 = 2
    }
}

extension JournalRecord: JournalRecordCodec {
    /// Appends the record's payload (no framing) to `bytes`.
    public func encode(into bytes: inout [UInt8]) {
        switch self {
        case .putItem(let sku, let config, let generation, let timestamp):
            bytes.append(Kind.putItem.rawValue)
            bytes.appendString(sku)
            bytes.appendInteger(config.stock)
            bytes.appendInteger(config.limitPerUser ?? -1)
            bytes.appendInteger(config.rateWindowMilliseconds)
            bytes.appendInteger(generation)
            bytes.appendInteger(timestamp)
        case .deduct(let order):
            bytes.append(Kind.deduct.rawValue)
            bytes.appendString(order.orderID)
            bytes.appendString(order.sku)
            bytes.appendString(order.userID)
            bytes.appendInteger(order.amount)
            bytes.appendInteger(order.oldStock)
            bytes.appendInteger(order.newStock)
            bytes.appendInteger(order.timestampMilliseconds)
            bytes.appendInteger(order.generation)
            bytes.append(order.released ? 1 : 0)
            // A reservation adds its deadline and state; a plain deduct ends here, as before reservations existed.
            if let deadline = order.holdDeadlineMilliseconds {
                bytes.appendInteger(deadline)
                bytes.append((order.confirmed ? HoldFlags.confirmed : 0) | (order.expired ? HoldFlags.expired : 0))
            }
        case .release(let orderID, let timestamp):
            bytes.append(Kind.release.rawValue)
            bytes.appendString(orderID)
            bytes.appendInteger(timestamp)
        case .confirm(let orderID, let timestamp):
            bytes.append(Kind.confirm.rawValue)
            bytes.appendString(orderID)
            bytes.appendInteger(timestamp)
        case .expire(let orderID, let timestamp):
            bytes.append(Kind.expire.rawValue)
            bytes.appendString(orderID)
            bytes.appendInteger(timestamp)
        case .barrier(let orderID, let timestamp):
            bytes.append(Kind.barrier.rawValue)
            bytes.appendString(orderID)
            bytes.appendInteger(timestamp)
        case .ledgerAcknowledged(let seq):
            bytes.append(Kind.ledgerAcknowledged.rawValue)
            bytes.appendInteger(seq)
        case .traceContext(let seq, let traceParent):
            bytes.append(Kind.traceContext.rawValue)
            bytes.appendInteger(seq)
            bytes.appendString(traceParent)
        }
    }

    /// Decodes one payload; throws ``StampedeJournal/JournalError/Code-swift.struct/corrupted`` when it is not a
    /// well-formed record.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws(JournalError) -> JournalRecord {
        var reader = ByteReader(payload)
        let record: JournalRecord
        switch Kind(rawValue: try reader.readByte()) {
        case .putItem:
            let sku = try reader.readString()
            let stock: Int64 = try reader.readInteger()
            let limit: Int64 = try reader.readInteger()
            let window: Int64 = try reader.readInteger()
            let generation: UInt64 = try reader.readInteger()
            let timestamp: Int64 = try reader.readInteger()
            let config = ItemConfig(
                stock: stock,
                limitPerUser: limit < 0 ? nil : limit,
                rateWindowMilliseconds: window
            )
            record = .putItem(sku: sku, config: config, generation: generation, timestampMilliseconds: timestamp)
        case .deduct:
            var order = OrderRecord(
                orderID: try reader.readString(),
                sku: try reader.readString(),
                userID: try reader.readString(),
                amount: try reader.readInteger(),
                oldStock: try reader.readInteger(),
                newStock: try reader.readInteger(),
                timestampMilliseconds: try reader.readInteger(),
                generation: try reader.readInteger(),
                released: try reader.readByte() != 0
            )
            if !reader.isAtEnd {
                order.holdDeadlineMilliseconds = try reader.readInteger() as Int64
                let flags = try reader.readByte()
                order.confirmed = flags & HoldFlags.confirmed != 0
                order.expired = flags & HoldFlags.expired != 0
            }
            record = .deduct(order)
        case .release:
            record = .release(orderID: try reader.readString(), timestampMilliseconds: try reader.readInteger())
        case .confirm:
            record = .confirm(orderID: try reader.readString(), timestampMilliseconds: try reader.readInteger())
        case .expire:
            record = .expire(orderID: try reader.readString(), timestampMilliseconds: try reader.readInteger())
        case .barrier:
            record = .barrier(orderID: try reader.readString(), timestampMilliseconds: try reader.readInteger())
        case .ledgerAcknowledged:
            record = .ledgerAcknowledged(throughSeq: try reader.readInteger())
        case .traceContext:
            record = .traceContext(seq: try reader.readInteger(), traceParent: try reader.readString())
        case nil:
            throw JournalError.malformedRecord("unknown record kind")
        }
        guard reader.isAtEnd else { throw JournalError.malformedRecord("trailing bytes after record") }
        return record
    }
}
