import Crypto

/// Order ids follow from who asked and their request id, so a retry or a double click names the same order
/// on any instance without a lookup or a lock, and ids do not reveal how many orders exist.
public enum OrderIdentity {
    /// `ord_` and 24 hex digits: the first 96 bits of SHA-256 over the user id and the request id.
    public static func orderID(userID: String, requestID: String) -> String {
        var hasher = SHA256()
        hasher.update(data: Array(userID.utf8))
        hasher.update(data: [0])
        hasher.update(data: Array(requestID.utf8))
        let digest = hasher.finalize()
        var id = "ord_"
        id.reserveCapacity(28)
        for byte in digest.prefix(12) {
            id.append(Self.hexDigits[Int(byte >> 4)])
            id.append(Self.hexDigits[Int(byte & 0x0F)])
        }
        return id
    }

    /// The inventory reservation of line `index` of an order: its own id, so each line is idempotent alone.
    public static func reservationID(orderID: String, line index: Int) -> String {
        "\(orderID)-\(index)"
    }

    private static let hexDigits = Array("0123456789abcdef")
}
