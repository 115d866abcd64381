import Foundation
import Logging
import StampedeTesting
import Testing

@testable import StampedeInventory

@Suite("Embedded store: concurrency, durability, recovery")
struct EmbeddedStoreTests {
    let logger: Logger = {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return logger
    }()

    func open(
        _ directory: TemporaryDirectory,
        durability: Durability = .sync,
        clock: ManualClock? = nil
    ) throws -> EmbeddedInventoryStore {
        let configuration = EmbeddedInventoryStore.Configuration(dataDirectory: directory.path, durability: durability)
        if let clock {
            return try EmbeddedInventoryStore(configuration: configuration, logger: logger, clock: clock.closure)
        }
        return try EmbeddedInventoryStore(configuration: configuration, logger: logger)
    }

    // Concurrent buyers with caps and retries: InventoryStoreContractTests, on every store.

    @Test func stockDemandBeyondSupplySellsExactlyTheStock() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory)
            _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
            let sold = try await withThrowingTaskGroup(of: Int64.self) { group in
                for index in 0..<1000 {
                    group.addTask {
                        let outcome = try await store.deduct(
                            DeductRequest(
                                sku: "HOT",
                                userID: "u\(index)",
                                orderID: "o\(index)",
                                amount: Int64(index % 3 + 1)
                            )
                        )
                        return outcome.isSuccess ? Int64(index % 3 + 1) : 0
                    }
                }
                return try await group.reduce(0, +)
            }
            let item = try #require(try await store.item(sku: "HOT"))
            #expect(item.sold == sold)
            #expect(item.stock + item.sold == 100)
            #expect(item.stock >= 0)
            await store.close()
        }
    }

    @Test func restartRecoversItemsOrdersAndReleases() async throws {
        try await TemporaryDirectory.with { directory in
            do {
                let store = try open(directory)
                _ = try await store.putItem(
                    sku: "HOT",
                    config: ItemConfig(stock: 10, limitPerUser: 3, rateWindowMilliseconds: 0)
                )
                _ = try await store.deduct(DeductRequest(sku: "HOT", userID: "u1", orderID: "o1", amount: 2))
                _ = try await store.deduct(DeductRequest(sku: "HOT", userID: "u2", orderID: "o2", amount: 3))
                _ = try await store.release(orderID: "o1")
                await store.close()
            }
            for _ in 0..<2 {  // twice: once from the journal, once from the snapshot written at the first restart
                let store = try open(directory)
                #expect(
                    try await store.item(sku: "HOT")
                        == ItemSnapshot(sku: "HOT", stock: 7, sold: 3, limitPerUser: 3, rateWindowMilliseconds: 0)
                )
                #expect(try await store.log(orderID: "o1")?.released == true)
                #expect(
                    try await store.deduct(DeductRequest(sku: "HOT", userID: "u2", orderID: "o2", amount: 3)).replayed
                )
                #expect(try await store.release(orderID: "o1").code == .alreadyReleased)
                #expect(
                    try await store.deduct(DeductRequest(sku: "HOT", userID: "u2", orderID: "o3", amount: 1)).code
                        == .userLimitExceeded
                )
                await store.close()
            }
        }
    }

    @Test func aRestartWithNothingNewDoesNotRewriteTheSnapshot() async throws {
        try await TemporaryDirectory.with { directory in
            do {
                let store = try open(directory)
                _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
                await store.close()
            }
            let snapshot = directory.path + "/snapshot.bin"
            // The first restart folds the journal into the snapshot; the second finds nothing new.
            await (try open(directory)).close()
            let first = try FileManager.default.attributesOfItem(atPath: snapshot)[.modificationDate] as? Date
            try await Task.sleep(for: .milliseconds(20))
            let store = try open(directory)
            let second = try FileManager.default.attributesOfItem(atPath: snapshot)[.modificationDate] as? Date
            #expect(first != nil && first == second)
            #expect(try await store.item(sku: "HOT")?.stock == 10)
            await store.close()
        }
    }

    /// A store with one item and one sale, closed, then `tail` appended to its journal as a crash can leave it.
    func oneSaleThenJournalTail(_ tail: Data, in directory: TemporaryDirectory) async throws {
        let store = try open(directory)
        _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
        _ = try await store.deduct(DeductRequest(sku: "HOT", userID: "u1", orderID: "o1", amount: 1))
        await store.close()
        let handle = try #require(FileHandle(forWritingAtPath: directory.path + "/journal.log"))
        handle.seekToEndOfFile()
        handle.write(tail)
        try handle.close()
    }

    /// Reopens the store with a logger that keeps what recovery logs.
    func reopenRecordingLogs(
        _ directory: TemporaryDirectory
    ) throws -> (EmbeddedInventoryStore, RecordingLogHandler.Records) {
        let records = RecordingLogHandler.Records()
        let configuration = EmbeddedInventoryStore.Configuration(dataDirectory: directory.path)
        let store = try EmbeddedInventoryStore(
            configuration: configuration,
            logger: RecordingLogHandler.logger(records)
        )
        return (store, records)
    }

    @Test func aTornTailIsDroppedWithAWarningAndEverythingBeforeItKept() async throws {
        try await TemporaryDirectory.with { directory in
            // Half a frame, as a crash in the middle of a write leaves it.
            try await oneSaleThenJournalTail(Data([40, 0, 0, 0, 1, 2, 3, 4, 5]), in: directory)
            let (store, records) = try reopenRecordingLogs(directory)
            #expect(try await store.item(sku: "HOT")?.sold == 1)
            #expect(try await store.log(orderID: "o1") != nil)
            #expect(records.messages(at: .warning).contains { $0.contains("torn tail") })
            await store.close()
        }
    }

    @Test func theJournalOnlyGrowsByItsRecords() async throws {
        // Recovery relies on appends: a crash leaves a prefix of what was written, so a bad frame with a valid one
        // after it is corruption. Records written over space filled ahead could reach the disk in any order.
        try await TemporaryDirectory.with { directory in
            let store = try open(directory)
            _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
            _ = try await store.deduct(DeductRequest(sku: "HOT", userID: "u1", orderID: "o1", amount: 1))
            let path = directory.path + "/journal.log"
            let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
            #expect(size > 0 && size < 512)
            await store.close()
        }
    }

    @Test func corruptionFollowedByMuchMoreDataRefusesToStart() async throws {
        try await TemporaryDirectory.with { directory in
            do {
                let store = try open(directory)
                _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
                await store.close()
            }
            // A snapshot that does not match its checksum is corruption, never a torn tail.
            var bytes = try Data(contentsOf: URL(fileURLWithPath: directory.path + "/snapshot.bin"))
            bytes[bytes.count - 1] ^= 0xFF
            try bytes.write(to: URL(fileURLWithPath: directory.path + "/snapshot.bin"))
            #expect(throws: InventoryStoreError.self) { try open(directory) }
        }
    }

    @Test func aSecondProcessCannotOpenTheSameDataDirectory() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory)
            let error = #expect(throws: InventoryStoreError.self) { try open(directory) }
            #expect(error?.code == .dataDirectoryUnavailable)
            await store.close()
            let again = try open(directory)
            await again.close()
        }
    }

    @Test func afterCloseWritesFailWithNotReady() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try open(directory)
            _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 1))
            await store.close()
            #expect(!store.isReady)
            await #expect(throws: InventoryStoreError.self) {
                try await store.deduct(DeductRequest(sku: "HOT", userID: "u", orderID: "o", amount: 1))
            }
        }
    }

    @Test func asyncDurabilityStillRecoversAfterAGracefulClose() async throws {
        try await TemporaryDirectory.with { directory in
            do {
                let store = try open(directory, durability: .async)
                _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 5, rateWindowMilliseconds: 0))
                for index in 0..<5 {
                    _ = try await store.deduct(DeductRequest(sku: "HOT", userID: "u", orderID: "o\(index)", amount: 1))
                }
                await store.close()
            }
            let store = try open(directory)
            #expect(try await store.item(sku: "HOT")?.stock == 0)
            await store.close()
        }
    }

    @Test func rateWindowFollowsTheInjectedClock() async throws {
        try await TemporaryDirectory.with { directory in
            let clock = ManualClock()
            let store = try open(directory, clock: clock)
            _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 5, rateWindowMilliseconds: 1000))
            #expect(try await store.deduct(DeductRequest(sku: "HOT", userID: "u", orderID: "a", amount: 1)).isSuccess)
            #expect(
                try await store.deduct(DeductRequest(sku: "HOT", userID: "u", orderID: "b", amount: 1)).code
                    == .rateLimited
            )
            clock.advance(milliseconds: 1000)
            #expect(try await store.deduct(DeductRequest(sku: "HOT", userID: "u", orderID: "b", amount: 1)).isSuccess)
            await store.close()
        }
    }
}

@Suite("Journal corruption is never mistaken for a torn tail")
struct JournalCorruptionTests {
    @Test func aBadFrameFollowedByValidFramesRefusesToStart() async throws {
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        try await TemporaryDirectory.with { directory in
            let configuration = EmbeddedInventoryStore.Configuration(dataDirectory: directory.path)
            let store = try EmbeddedInventoryStore(configuration: configuration, logger: logger)
            _ = try await store.putItem(sku: "HOT", config: ItemConfig(stock: 10, rateWindowMilliseconds: 0))
            for index in 0..<3 {
                _ = try await store.deduct(DeductRequest(sku: "HOT", userID: "u", orderID: "o\(index)", amount: 1))
            }
            // Close leaves the journal as written (compaction runs at start-up only).
            await store.close()
            let path = directory.path + "/journal.log"
            var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
            #expect(bytes.count > 100)
            bytes[20] ^= 0xFF  // inside the first frame's payload
            try bytes.write(to: URL(fileURLWithPath: path))
            let error = #expect(throws: InventoryStoreError.self) {
                try EmbeddedInventoryStore(configuration: configuration, logger: logger)
            }
            #expect(error?.code == .corrupted)
        }
    }
}
