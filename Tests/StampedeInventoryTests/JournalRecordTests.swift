import StampedeJournal
import Testing

@testable import StampedeInventory

@Suite("Inventory journal records")
struct JournalRecordTests {
    @Test func recordsSurviveAnEncodeDecodeRoundTrip() throws {
        let records: [JournalRecord] = [
            .putItem(
                sku: "HOT",
                config: ItemConfig(stock: 5, limitPerUser: nil, rateWindowMilliseconds: 0),
                generation: 3,
                timestampMilliseconds: 42
            ),
            .putItem(
                sku: "ü",
                config: ItemConfig(stock: 1, limitPerUser: 7, rateWindowMilliseconds: 1000),
                generation: 1,
                timestampMilliseconds: 1
            ),
            .deduct(
                OrderRecord(
                    orderID: "o",
                    sku: "HOT",
                    userID: "u",
                    amount: 2,
                    oldStock: 5,
                    newStock: 3,
                    timestampMilliseconds: 9,
                    generation: 3,
                    released: true
                )
            ),
            .release(orderID: "o", timestampMilliseconds: 10),
            .ledgerAcknowledged(throughSeq: 77),
            .traceContext(seq: 78, traceParent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        ]
        for record in records {
            var bytes: [UInt8] = []
            record.encode(into: &bytes)
            let decoded = try bytes.withUnsafeBytes { try JournalRecord.decode($0) }
            #expect(decoded == record)
        }
    }

    @Test func truncatedOrUnknownPayloadsAreRejected() {
        var bytes: [UInt8] = []
        JournalRecord.release(orderID: "order", timestampMilliseconds: 1).encode(into: &bytes)
        for cut in 0..<bytes.count {
            let prefix = Array(bytes[..<cut])
            let error = #expect(throws: JournalError.self) {
                try prefix.withUnsafeBytes { try JournalRecord.decode($0) }
            }
            #expect(error?.code == .corrupted)
        }
        let unknown: [UInt8] = [99]
        #expect(throws: JournalError.self) { try unknown.withUnsafeBytes { try JournalRecord.decode($0) } }
    }

    @Test func onlyTraceParentsWithTheSampledFlagCountAsSampled() {
        let base = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-"
        #expect(LedgerTraceContext.isSampled(base + "01"))
        #expect(LedgerTraceContext.isSampled(base + "03"))
        #expect(LedgerTraceContext.isSampled(base + "0f"))
        #expect(!LedgerTraceContext.isSampled(base + "00"))
        #expect(!LedgerTraceContext.isSampled(base + "02"))
        #expect(!LedgerTraceContext.isSampled(base + "0"), "too short")
        #expect(!LedgerTraceContext.isSampled(base + "0x"))
    }
}
