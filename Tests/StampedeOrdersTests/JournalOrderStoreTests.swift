import Foundation
import Logging
import StampedeJournal
import StampedeTesting
import Testing

@testable import StampedeOrders

@Suite("Embedded order store: durable sagas, recovery, compaction, bounds")
struct JournalOrderStoreTests {
    static let now: Int64 = 1_800_000_000_000
    let logger: Logger = {
        var logger = Logger(label: "orders-test")
        logger.logLevel = .warning
        return logger
    }()

    func saga(_ request: String, user: String = "u1", lines: Int = 1) -> CheckoutSaga {
        let order = OrderRequest(
            requestID: request,
            userID: user,
            lines: (0..<lines).map { OrderLine(sku: "SKU-\($0)", quantity: 1) },
            payment: PaymentDetails(amount: Money(amountMinor: 500, currency: "CNY"), method: "card")
        )
        return CheckoutSaga(
            orderID: OrderIdentity.orderID(userID: user, requestID: request),
            request: order,
            now: Self.now,
            deadlineMilliseconds: Self.now + 30_000,
            holdMilliseconds: 60_000,
            traceID: request == "r1" ? "4bf92f3577b34da6a3ce929d0e0e4736" : nil
        )
    }

    func open(_ directory: TemporaryDirectory, ordersMax: Int = 1_000) throws -> JournalOrderStore {
        try JournalOrderStore(
            configuration: .init(directory: directory.path + "/orders", ordersMax: ordersMax),
            logger: logger
        )
    }

    /// Drives `saga` through `results`, saving each state as the runner does.
    func drive(_ saga: inout CheckoutSaga, _ results: [StepResult], store: JournalOrderStore) async throws {
        var now = Self.now
        for result in results {
            _ = saga.nextAction(now: now)
            try await store.save(saga)
            saga.apply(result, now: now, random: { $0 })
            try await store.save(saga)
            now += 1_000
        }
        _ = saga.nextAction(now: now)
        try await store.save(saga)
    }

    @Test func sagasReadBackWholeAfterARestartAndACompaction() async throws {
        try await TemporaryDirectory.with { directory in
            var store = try open(directory)
            var done = saga("r1")
            #expect(try await store.create(done) == nil)
            try await drive(
                &done,
                [.done(reference: nil), .uncertain(reason: "t"), .done(reference: "pay_1"), .done(reference: nil)],
                store: store
            )
            #expect(done.status == .confirmed)
            var running = saga("r2", lines: 20)
            #expect(try await store.create(running) == nil)
            // More step records than one journal record holds, and more than the history keeps.
            try await drive(
                &running,
                [.done(reference: nil)] + Array(repeating: .notApplied(reason: "x"), count: 3),
                store: store
            )
            #expect(running.status == .charging)
            #expect(running.cancel(now: Self.now + 50_000) == .accepted)
            for _ in 0..<80 {
                _ = running.nextAction(now: Self.now + 100_000)
                running.apply(.uncertain(reason: "down"), now: Self.now + 100_000, random: { _ in 0 })
            }
            try await store.save(running)
            await store.close()

            for _ in 0..<2 {
                store = try open(directory)
                #expect(try await store.load(orderID: done.orderID) == done)
                #expect(try await store.load(orderID: running.orderID) == running)
                #expect(try await store.unfinished(limit: 10).map(\.orderID) == [running.orderID])
                await store.close()
            }
        }
    }

    @Test func createReturnsTheExistingOrderAndWritesNothing() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory)
            var first = saga("r1")
            #expect(try await store.create(first) == nil)
            _ = first.nextAction(now: Self.now)
            try await store.save(first)
            #expect(try await store.create(saga("r1")) == first)
            await store.close()
        }
    }

    @Test func ordersAreBoundedAndListedNewestFirstByPage() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory, ordersMax: 5)
            for index in 0..<4 { #expect(try await store.create(saga("r\(index)")) == nil) }
            #expect(try await store.create(saga("other", user: "u2")) == nil)
            await #expect(throws: OrderStoreError.self) { _ = try await store.create(saga("r9")) }
            let first = try await store.orders(userID: "u1", after: nil, limit: 3)
            #expect(first.orders.map(\.request.requestID) == ["r3", "r2", "r1"])
            let second = try await store.orders(userID: "u1", after: first.nextCursor, limit: 3)
            #expect(second.orders.map(\.request.requestID) == ["r0"])
            #expect(second.nextCursor == nil)
            await store.close()
        }
    }

    @Test func theLargestOrderFitsOneJournalRecord() {
        let limits = OrderLimits.default
        let id = String(repeating: "x", count: limits.idBytesMax)
        var request = OrderRequest(
            requestID: id,
            userID: id,
            lines: (0..<limits.linesMax).map {
                OrderLine(sku: String(repeating: "\($0 % 10)", count: limits.idBytesMax - 2) + "\($0)", quantity: 1)
            },
            payment: PaymentDetails(amount: Money(amountMinor: 1, currency: "CNY"), method: id)
        )
        request.lines = request.lines.map {
            OrderLine(sku: String($0.sku.prefix(limits.idBytesMax)), quantity: $0.quantity)
        }
        #expect(request.invalidField(limits: limits) == nil)
        let saga = CheckoutSaga(
            orderID: "ord_" + String(repeating: "0", count: 24),
            request: request,
            now: Self.now,
            deadlineMilliseconds: Self.now + 1,
            holdMilliseconds: 1,
            traceID: String(repeating: "f", count: 32)
        )
        var bytes: [UInt8] = []
        OrderJournalRecord.created(saga).encode(into: &bytes)
        #expect(bytes.count <= JournalFrame.payloadBytesMax)
        var progress: [UInt8] = []
        let records = (0..<OrderJournalRecord.recordsPerChunk).map {
            StepRecord(
                step: .chargeStatus,
                attempt: $0,
                result: String(repeating: "r", count: CheckoutSaga.resultBytesMax),
                atMilliseconds: Self.now
            )
        }
        OrderJournalRecord.progress(orderID: saga.orderID, saga.progress, newRecords: records).encode(into: &progress)
        #expect(progress.count <= JournalFrame.payloadBytesMax)
    }
}
