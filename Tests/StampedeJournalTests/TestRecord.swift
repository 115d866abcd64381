import StampedeJournal

/// A record for the journal's own tests, as small as a codec gets: `[u64 number][u16 text length][text]`.
struct TestRecord: JournalRecordCodec, Hashable {
    var number: UInt64
    var text: String

    init(number: UInt64, text: String = "") {
        self.number = number
        self.text = text
    }

    func encode(into bytes: inout [UInt8]) {
        let utf8 = Array(text.utf8)
        withUnsafeBytes(of: number.littleEndian) { bytes.append(contentsOf: $0) }
        withUnsafeBytes(of: UInt16(utf8.count).littleEndian) { bytes.append(contentsOf: $0) }
        bytes.append(contentsOf: utf8)
    }

    static func decode(_ payload: UnsafeRawBufferPointer) throws(JournalError) -> TestRecord {
        guard payload.count >= 10 else { throw JournalError(.corrupted, context: "short test record") }
        let number = UInt64(littleEndian: payload.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        let count = Int(UInt16(littleEndian: payload.loadUnaligned(fromByteOffset: 8, as: UInt16.self)))
        guard payload.count == 10 + count else { throw JournalError(.corrupted, context: "test record length") }
        let text = String(decoding: UnsafeRawBufferPointer(rebasing: payload[10...]), as: UTF8.self)
        return TestRecord(number: number, text: text)
    }
}
