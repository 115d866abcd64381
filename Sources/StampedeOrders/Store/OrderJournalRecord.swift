import StampedeJournal

/// One change to the orders, as written to the orders journal.
///
/// A saga is its `created` record, then one `progress` record per state written, each carrying the step records
/// added since the one before. Compaction writes each saga as `created`, its retained history in `history`
/// chunks, and its last `progress`.
enum OrderJournalRecord: Sendable, Hashable {
    case created(CheckoutSaga)
    case progress(orderID: String, SagaProgress, newRecords: [StepRecord])
    case history(orderID: String, [StepRecord])

    enum Kind: UInt8 {
        case created = 1
        case progress = 2
        case history = 3
    }

    /// Step records per `history` chunk (and at most per `progress`): keeps a record well under a frame.
    static let recordsPerChunk = 16

    enum Flag {
        static let chargeMayExist: UInt8 = 1
        static let chargeUncertain: UInt8 = 2
        static let refunded: UInt8 = 4
        static let refundRefused: UInt8 = 8
        static let reserveSent: UInt8 = 16
        static let released: UInt8 = 32
        static let chargeSent: UInt8 = 64
    }
}

extension OrderJournalRecord: JournalRecordCodec {
    func encode(into bytes: inout [UInt8]) {
        switch self {
        case .created(let saga):
            bytes.append(Kind.created.rawValue)
            bytes.appendString(saga.orderID)
            bytes.appendString(saga.request.requestID)
            bytes.appendString(saga.request.userID)
            bytes.appendInteger(UInt16(saga.request.lines.count))
            for line in saga.request.lines {
                bytes.appendString(line.sku)
                bytes.appendInteger(line.quantity)
            }
            bytes.appendInteger(saga.request.payment.amount.amountMinor)
            bytes.appendString(saga.request.payment.amount.currency)
            bytes.appendString(saga.request.payment.method)
            bytes.appendInteger(saga.createdAtMilliseconds)
            bytes.appendInteger(saga.deadlineMilliseconds)
            bytes.appendInteger(saga.holdMilliseconds)
            bytes.appendInteger(saga.retry.initialMilliseconds)
            bytes.appendInteger(saga.retry.maxMilliseconds)
            bytes.appendInteger(Int64(saga.retry.forwardAttemptsMax))
            // Written last and only when known: records written before it existed read as they did.
            if let traceID = saga.traceID { bytes.appendString(traceID) }
        case .progress(let orderID, let progress, let records):
            bytes.append(Kind.progress.rawValue)
            bytes.appendString(orderID)
            bytes.appendString(progress.status.rawValue)
            bytes.appendString(progress.step?.rawValue ?? "")
            bytes.appendInteger(Int64(progress.attempt))
            bytes.appendInteger(progress.retryAtMilliseconds ?? -1)
            bytes.appendString(progress.reason?.rawValue ?? "")
            bytes.append(progress.paymentID == nil ? 0 : 1)
            bytes.appendString(progress.paymentID ?? "")
            var flags: UInt8 = 0
            if progress.chargeMayExist { flags |= Flag.chargeMayExist }
            if progress.chargeUncertain { flags |= Flag.chargeUncertain }
            if progress.refunded { flags |= Flag.refunded }
            if progress.refundRefused { flags |= Flag.refundRefused }
            if progress.reserveSent { flags |= Flag.reserveSent }
            if progress.released { flags |= Flag.released }
            if progress.chargeSent { flags |= Flag.chargeSent }
            bytes.append(flags)
            bytes.appendInteger(progress.updatedAtMilliseconds)
            bytes.appendInteger(Int64(progress.historyDropped))
            Self.encode(records, into: &bytes)
        case .history(let orderID, let records):
            bytes.append(Kind.history.rawValue)
            bytes.appendString(orderID)
            Self.encode(records, into: &bytes)
        }
    }

    static func decode(_ payload: UnsafeRawBufferPointer) throws(JournalError) -> OrderJournalRecord {
        var reader = ByteReader(payload)
        let record: OrderJournalRecord
        switch Kind(rawValue: try reader.readByte()) {
        case .created:
            let orderID = try reader.readString()
            let requestID = try reader.readString()
            let userID = try reader.readString()
            let count = Int(try reader.readInteger() as UInt16)
            var lines: [OrderLine] = []
            for _ in 0..<count {
                lines.append(OrderLine(sku: try reader.readString(), quantity: try reader.readInteger()))
            }
            let amount: Int64 = try reader.readInteger()
            let payment = PaymentDetails(
                amount: Money(amountMinor: amount, currency: try reader.readString()),
                method: try reader.readString()
            )
            let created: Int64 = try reader.readInteger()
            let deadline: Int64 = try reader.readInteger()
            let hold: Int64 = try reader.readInteger()
            let initial: Int64 = try reader.readInteger()
            let max: Int64 = try reader.readInteger()
            let attempts: Int64 = try reader.readInteger()
            guard deadline > created, hold > 0, initial >= 1, max >= initial, attempts >= 1 else {
                throw JournalError.malformedRecord("order \(orderID) has impossible times or retries")
            }
            let traceID = reader.isAtEnd ? nil : try reader.readString()
            let saga = CheckoutSaga(
                orderID: orderID,
                request: OrderRequest(requestID: requestID, userID: userID, lines: lines, payment: payment),
                now: created,
                deadlineMilliseconds: deadline,
                holdMilliseconds: hold,
                retry: RetryPolicy(
                    initialMilliseconds: initial,
                    maxMilliseconds: max,
                    forwardAttemptsMax: Int(attempts)
                ),
                traceID: traceID
            )
            record = .created(saga)
        case .progress:
            let orderID = try reader.readString()
            guard let status = OrderStatus(rawValue: try reader.readString()) else {
                throw JournalError.malformedRecord("unknown order status")
            }
            let stepName = try reader.readString()
            let step = CheckoutStep(rawValue: stepName)
            guard step != nil || stepName.isEmpty else { throw JournalError.malformedRecord("unknown step") }
            let attempt: Int64 = try reader.readInteger()
            let retryAt: Int64 = try reader.readInteger()
            let reasonName = try reader.readString()
            let reason = CancelReason(rawValue: reasonName)
            guard reason != nil || reasonName.isEmpty else { throw JournalError.malformedRecord("unknown reason") }
            let hasPayment = try reader.readByte() != 0
            let paymentID = try reader.readString()
            let flags = try reader.readByte()
            let updated: Int64 = try reader.readInteger()
            let dropped: Int64 = try reader.readInteger()
            let progress = SagaProgress(
                status: status,
                step: step,
                attempt: Int(attempt),
                retryAtMilliseconds: retryAt < 0 ? nil : retryAt,
                reason: reason,
                paymentID: hasPayment ? paymentID : nil,
                chargeSent: flags & Flag.chargeSent != 0,
                chargeMayExist: flags & Flag.chargeMayExist != 0,
                chargeUncertain: flags & Flag.chargeUncertain != 0,
                refunded: flags & Flag.refunded != 0,
                refundRefused: flags & Flag.refundRefused != 0,
                reserveSent: flags & Flag.reserveSent != 0,
                released: flags & Flag.released != 0,
                updatedAtMilliseconds: updated,
                historyDropped: Int(dropped)
            )
            record = .progress(orderID: orderID, progress, newRecords: try decodeRecords(&reader))
        case .history:
            let orderID = try reader.readString()
            record = .history(orderID: orderID, try decodeRecords(&reader))
        case nil:
            throw JournalError.malformedRecord("unknown order record kind")
        }
        guard reader.isAtEnd else { throw JournalError.malformedRecord("trailing bytes after order record") }
        return record
    }

    private static func encode(_ records: [StepRecord], into bytes: inout [UInt8]) {
        precondition(records.count <= recordsPerChunk, "step records are written in chunks")
        bytes.append(UInt8(records.count))
        for entry in records {
            bytes.appendString(entry.step.rawValue)
            bytes.appendInteger(Int64(entry.attempt))
            bytes.appendString(entry.result)
            bytes.appendInteger(entry.atMilliseconds)
        }
    }

    private static func decodeRecords(_ reader: inout ByteReader) throws(JournalError) -> [StepRecord] {
        let count = Int(try reader.readByte())
        guard count <= recordsPerChunk else { throw JournalError.malformedRecord("too many step records") }
        var records: [StepRecord] = []
        for _ in 0..<count {
            guard let step = CheckoutStep(rawValue: try reader.readString()) else {
                throw JournalError.malformedRecord("unknown step")
            }
            let attempt: Int64 = try reader.readInteger()
            let result = try reader.readString()
            let at: Int64 = try reader.readInteger()
            records.append(StepRecord(step: step, attempt: Int(attempt), result: result, atMilliseconds: at))
        }
        return records
    }
}
