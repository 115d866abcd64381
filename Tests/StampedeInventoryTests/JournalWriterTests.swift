import Foundation
import StampedeTestSupport
import Synchronization
import Testing

@testable import StampedeInventory

#if canImport(Glibc)
import Glibc
#endif

@Suite("Journal writer")
struct JournalWriterTests {
    static func writer(_ durability: Durability, in directory: TemporaryDirectory) throws -> JournalWriter {
        let path = directory.path + "/journal"
        let fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        try #require(fd >= 0)
        return JournalWriter(fd: fd, path: path, lastSeq: 0, durability: durability)
    }

    @Test(arguments: [Durability.sync, .async])
    func aRecordAppendedAfterTheWriterFinishedIsNeverAcknowledged(durability: Durability) async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let writer = try Self.writer(durability, in: directory)
        let first = writer.append(.release(orderID: "o1", timestampMilliseconds: 1))
        try await writer.waitDurable(first)
        await writer.close()
        // A deduct that passed its writability check just before the close appends after the writer's last look.
        let late = writer.append(.release(orderID: "o2", timestampMilliseconds: 2))
        await #expect(throws: InventoryStoreError.self) { try await writer.waitDurable(late) }
        // What was written before is still acknowledged.
        try await writer.waitDurable(first)
    }

    @Test func inAsyncDurabilityARecordIsInTheFileBeforeItIsAcknowledged() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let writer = try Self.writer(.async, in: directory)
        for index in 0..<200 {
            let seq = writer.append(.release(orderID: "o\(index)", timestampMilliseconds: Int64(index)))
            try await writer.waitDurable(seq)
            // Written, so a crash of the process can no longer lose it (fsync comes later).
            #expect(writer.durableSeq >= seq)
        }
        let size = (try FileManager.default.attributesOfItem(atPath: directory.path + "/journal")[.size] as? Int) ?? 0
        #expect(size > 200 * 10)
        await writer.close()
    }

    @Test func everyWaiterIsCompletedOnceWhenTheWriterCloses() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let writer = try Self.writer(.sync, in: directory)
        let completions = Mutex<[UInt64: Int]>([:])
        var seqs: [UInt64] = []
        for index in 0..<200 {
            let seq = writer.append(.release(orderID: "o\(index)", timestampMilliseconds: Int64(index)))
            seqs.append(seq)
            writer.waitDurable(seq) { _ in completions.withLock { $0[seq, default: 0] += 1 } }
        }
        await writer.close()
        #expect(completions.withLock { $0.count } == seqs.count)
        #expect(completions.withLock { $0.values.allSatisfy { $0 == 1 } })
    }
}
