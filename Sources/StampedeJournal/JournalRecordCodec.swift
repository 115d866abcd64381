/// A record that a journal can frame: its payload bytes and back. The journal knows nothing else about it.
///
/// The writer and the frame reader are generic over the record type, so appending costs no existential and no
/// allocation beyond the bytes of the payload.
public protocol JournalRecordCodec {
    /// Appends the record's payload (no framing) to `bytes`: at most ``JournalFrame/payloadBytesMax`` bytes.
    func encode(into bytes: inout [UInt8])

    /// Decodes one payload whose checksum held; throws ``JournalError/Code-swift.struct/corrupted`` when it is not
    /// a well-formed record (an unknown kind, a short field, trailing bytes).
    static func decode(_ payload: UnsafeRawBufferPointer) throws(JournalError) -> Self
}
