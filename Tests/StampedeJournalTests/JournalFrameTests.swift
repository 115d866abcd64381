import Foundation
import StampedeTesting
import Testing

@testable import StampedeJournal

#if canImport(Glibc)
import Glibc
#endif

@Suite("Journal frames, checksums and replay")
struct JournalFrameTests {
    /// Frames `records`, numbered from `firstSeq` on.
    static func framed(_ records: [TestRecord], firstSeq: UInt64 = 1) -> [UInt8] {
        var bytes: [UInt8] = []
        for (index, record) in records.enumerated() {
            JournalFrame.append(record, seq: firstSeq + UInt64(index), to: &bytes)
        }
        return bytes
    }

    static let records = (1...5).map { TestRecord(number: UInt64($0), text: "record \($0)") }

    /// Writes `bytes` as the journal in `directory` and replays it; the records it yields, and its last seq.
    static func replay(
        _ bytes: [UInt8],
        in directory: TemporaryDirectory,
        after snapshotSeq: UInt64 = 0
    ) throws -> (records: [TestRecord], lastSeq: UInt64) {
        let path = directory.path + "/journal.log"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var records: [TestRecord] = []
        let lastSeq = try JournalFrameReader<TestRecord>.replay(
            journalAtPath: path,
            after: snapshotSeq,
            logger: RecordingLogHandler.logger(RecordingLogHandler.Records())
        ) { _, record in
            records.append(record)
        }
        return (records, lastSeq)
    }

    static func fileSize(_ path: String) throws -> Int {
        try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
    }

    @Test func crcMatchesTheStandardCheckValue() {
        let bytes = Array("123456789".utf8)
        #expect(bytes.withUnsafeBytes { CRC32.checksum($0) } == 0xCBF4_3926)
    }

    @Test func aFrameIsItsHeaderAndItsPayload() {
        var payload: [UInt8] = []
        Self.records[0].encode(into: &payload)
        let bytes = Self.framed([Self.records[0]], firstSeq: 42)
        #expect(bytes.count == JournalFrame.headerBytes + payload.count)
        #expect(Array(bytes[JournalFrame.headerBytes...]) == payload)
        bytes.withUnsafeBytes { raw in
            #expect(Int(UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self))) == payload.count)
            #expect(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8, as: UInt64.self)) == 42)
            let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4, as: UInt32.self))
            #expect(crc == CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[8...])))
        }
    }

    @Test func framesReadBackInOrderAndEndCleanly() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path + "/frames"
            try Data(Self.framed(Self.records)).write(to: URL(fileURLWithPath: path))
            let fd = open(path, O_RDONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            var reader = JournalFrameReader<TestRecord>(fd: fd, path: path)
            var decoded: [TestRecord] = []
            for seq in UInt64(1)...5 {
                let (frame, stop) = try reader.next()
                #expect(stop == nil)
                #expect(frame?.seq == seq)
                if let frame { decoded.append(frame.record) }
            }
            let (frame, stop) = try reader.next()
            #expect(frame?.seq == nil)
            #expect(stop == .cleanEnd)
            #expect(decoded == Self.records)
        }
    }

    @Test func aFlippedBitIsABadFrameNotARecord() async throws {
        try await TemporaryDirectory.with { directory in
            let path = directory.path + "/frames"
            var bytes = Self.framed(Self.records)
            bytes[JournalFrame.headerBytes + 2] ^= 0x01
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let fd = open(path, O_RDONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            var reader = JournalFrameReader<TestRecord>(fd: fd, path: path)
            let (frame, stop) = try reader.next()
            #expect(frame?.seq == nil)
            #expect(stop == .badFrame(offset: 0, reason: "checksum mismatch"))
        }
    }

    @Test func aPayloadThatChecksOutButDoesNotDecodeIsCorruption() async throws {
        try await TemporaryDirectory.with { directory in
            // A valid frame around three bytes: too short for a test record.
            var bytes: [UInt8] = []
            JournalFrame.append(RawPayload(bytes: [1, 2, 3]), seq: 1, to: &bytes)
            let path = directory.path + "/frames"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let fd = open(path, O_RDONLY)
            try #require(fd >= 0)
            defer { close(fd) }
            var reader = JournalFrameReader<TestRecord>(fd: fd, path: path)
            let error = #expect(throws: JournalError.self) { _ = try reader.next() }
            #expect(error?.code == .corrupted)
        }
    }

    @Test func replaySkipsWhatTheSnapshotHoldsAndReturnsTheLastSeq() async throws {
        try await TemporaryDirectory.with { directory in
            let (records, lastSeq) = try Self.replay(Self.framed(Self.records), in: directory, after: 2)
            #expect(records == Array(Self.records[2...]))
            #expect(lastSeq == 5)
        }
    }

    @Test func aMissingJournalReplaysNothing() async throws {
        try await TemporaryDirectory.with { directory in
            let lastSeq = try JournalFrameReader<TestRecord>.replay(
                journalAtPath: directory.path + "/journal.log",
                after: 9,
                logger: RecordingLogHandler.logger(RecordingLogHandler.Records())
            ) { _, _ in
                Issue.record("no journal, no records")
            }
            #expect(lastSeq == 9)
        }
    }

    @Test func aTornTailIsCutOffAndEverythingBeforeItKept() async throws {
        try await TemporaryDirectory.with { directory in
            let whole = Self.framed(Self.records)
            // Half a frame, as a crash in the middle of a write leaves it.
            let torn = whole + Array(Self.framed([TestRecord(number: 6, text: "torn")], firstSeq: 6).prefix(9))
            let (records, lastSeq) = try Self.replay(torn, in: directory)
            #expect(records == Self.records)
            #expect(lastSeq == 5)
            #expect(try Self.fileSize(directory.path + "/journal.log") == whole.count)
        }
    }

    @Test func aBadFrameFollowedByAValidOneIsCorruption() async throws {
        try await TemporaryDirectory.with { directory in
            var bytes = Self.framed(Self.records)
            bytes[JournalFrame.headerBytes + 2] ^= 0xFF  // inside the first frame's payload
            let error = #expect(throws: JournalError.self) { try Self.replay(bytes, in: directory) }
            #expect(error?.code == .corrupted)
            // Nothing was cut off.
            #expect((try? Self.fileSize(directory.path + "/journal.log")) == bytes.count)
        }
    }

    @Test func aGapInSequenceNumbersIsCorruption() async throws {
        try await TemporaryDirectory.with { directory in
            let bytes = Self.framed(Array(Self.records[..<2])) + Self.framed(Array(Self.records[2...]), firstSeq: 4)
            let error = #expect(throws: JournalError.self) { try Self.replay(bytes, in: directory) }
            #expect(error?.code == .corrupted)
        }
    }

    @Test func errorsOfTheCallerPassThroughReplay() async throws {
        struct Refused: Error {}
        try await TemporaryDirectory.with { directory in
            let path = directory.path + "/journal.log"
            try Data(Self.framed(Self.records)).write(to: URL(fileURLWithPath: path))
            #expect(throws: Refused.self) {
                try JournalFrameReader<TestRecord>.replay(
                    journalAtPath: path,
                    after: 0,
                    logger: RecordingLogHandler.logger(RecordingLogHandler.Records())
                ) { seq, _ in
                    if seq == 3 { throw Refused() }
                }
            }
        }
    }
}

/// Arbitrary payload bytes in a valid frame, to test what a codec refuses.
private struct RawPayload: JournalRecordCodec {
    var bytes: [UInt8]

    func encode(into bytes: inout [UInt8]) {
        bytes.append(contentsOf: self.bytes)
    }

    static func decode(_ payload: UnsafeRawBufferPointer) throws(JournalError) -> RawPayload {
        RawPayload(bytes: Array(payload))
    }
}
