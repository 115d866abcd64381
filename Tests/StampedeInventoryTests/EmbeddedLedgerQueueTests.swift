import Foundation
import Logging
import StampedeTesting
import Testing

@testable import StampedeInventory

@Suite("Embedded ledger queue: the dead-letter file")
struct EmbeddedLedgerQueueTests {
    func openWithLedger(_ directory: TemporaryDirectory) throws -> EmbeddedInventoryStore {
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        return try EmbeddedInventoryStore(
            configuration: .init(dataDirectory: directory.path, ledgerBacklogMax: 1000),
            logger: logger
        )
    }

    @Test func theDeadLetterFileIsBoundedAndKeepsTheNewest() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try openWithLedger(directory)
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
            for index in 0..<12 {
                _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "o\(index)", amount: 1))
            }
            let bytesMax = 1000
            let queue = EmbeddedLedgerQueue(store: store, dataDirectory: directory.path, deadLetterBytesMax: bytesMax)
            let entries = try await queue.next(max: 100, wait: .zero)
            #expect(entries.count == 13)
            for entry in entries { try await queue.deadLetter(entry, reason: "refused") }

            let current = try String(contentsOfFile: queue.deadLetterPath, encoding: .utf8)
            let previous = try String(contentsOfFile: queue.previousDeadLetterPath, encoding: .utf8)
            #expect(current.utf8.count <= bytesMax && previous.utf8.count <= bytesMax)
            let lines = (previous + current).split(separator: "\n")
            for line in lines {
                let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["reason"] as? String == "refused")
            }
            // The newest letters are kept, in order, and the oldest went first.
            let ids = try lines.map { line in
                try #require(JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])["id"] as? String
            }
            #expect(ids.count < entries.count)
            #expect(ids == entries.suffix(ids.count).map(\.id))
            await store.close()
        }
    }

    @Test func aLetterLargerThanTheBoundDoesNotRotateAnEmptyFileOverTheOlderLetters() async throws {
        try await TemporaryDirectory.with { directory in
            let store = try openWithLedger(directory)
            _ = try await store.putItem(sku: "A", config: ItemConfig(stock: 100, rateWindowMilliseconds: 0))
            _ = try await store.deduct(DeductRequest(sku: "A", userID: "u", orderID: "o1", amount: 1))
            let queue = EmbeddedLedgerQueue(store: store, dataDirectory: directory.path, deadLetterBytesMax: 10)
            let entries = try await queue.next(max: 100, wait: .zero)
            #expect(entries.count == 2)
            try await queue.deadLetter(entries[0], reason: "first")
            try await queue.deadLetter(entries[1], reason: "second")
            // Each letter alone is over the bound: the first moved aside, the second in the current file.
            let previous = try String(contentsOfFile: queue.previousDeadLetterPath, encoding: .utf8)
            let current = try String(contentsOfFile: queue.deadLetterPath, encoding: .utf8)
            #expect(previous.contains("\"first\"") && current.contains("\"second\""))
            // An empty current file is written to, not rotated over the older letters.
            try Data().write(to: URL(fileURLWithPath: queue.deadLetterPath))
            try await queue.deadLetter(entries[0], reason: "third")
            #expect(try String(contentsOfFile: queue.previousDeadLetterPath, encoding: .utf8) == previous)
            await store.close()
        }
    }
}
