import Foundation
import StampedeTesting
import Synchronization
import Testing

@testable import StampedeJournal

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
        let first = writer.append(TestRecord(number: 1, text: "o1"))
        try await writer.waitDurable(first)
        await writer.close()
        // A deduct that passed its writability check just before the close appends after the writer's last look.
        let late = writer.append(TestRecord(number: 2, text: "o2"))
        let error = await #expect(throws: JournalError.self) { try await writer.waitDurable(late) }
        #expect(error?.code == .closed)
        // What was written before is still acknowledged.
        try await writer.waitDurable(first)
    }

    @Test func inAsyncDurabilityARecordIsInTheFileBeforeItIsAcknowledged() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let writer = try Self.writer(.async, in: directory)
        for index in 0..<200 {
            let seq = writer.append(TestRecord(number: UInt64(index), text: "o\(index)"))
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
            let seq = writer.append(TestRecord(number: UInt64(index), text: "o\(index)"))
            seqs.append(seq)
            writer.waitDurable(seq) { _ in completions.withLock { $0[seq, default: 0] += 1 } }
        }
        await writer.close()
        #expect(completions.withLock { $0.count } == seqs.count)
        #expect(completions.withLock { $0.values.allSatisfy { $0 == 1 } })
    }

    @Test func aClosingWriterRefusesNewRecords() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let writer = try Self.writer(.sync, in: directory)
        try writer.checkWritable()
        await writer.close()
        let error = #expect(throws: JournalError.self) { try writer.checkWritable() }
        #expect(error?.code == .closed)
        #expect(writer.failure == nil, "a graceful close is not a failure")
    }

    @Test func whatTheWriterWroteReadsBackInOrder() async throws {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        let writer = try Self.writer(.sync, in: directory)
        let records = (1...50).map { TestRecord(number: UInt64($0) * 7, text: String(repeating: "x", count: $0)) }
        var last: UInt64 = 0
        for record in records { last = writer.append(record) }
        try await writer.waitDurable(last)
        await writer.close()
        var replayed: [(UInt64, TestRecord)] = []
        let lastSeq = try JournalFrameReader<TestRecord>.replay(
            journalAtPath: directory.path + "/journal",
            after: 0,
            logger: RecordingLogHandler.logger(RecordingLogHandler.Records())
        ) { seq, record in
            replayed.append((seq, record))
        }
        #expect(lastSeq == 50)
        #expect(replayed.map { $0.0 } == Array(UInt64(1)...50))
        #expect(replayed.map { $0.1 } == records)
    }
}
