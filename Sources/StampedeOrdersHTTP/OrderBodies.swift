/// `POST /api/v1/orders`.
struct PlaceOrderBody: Decodable {
    struct Item: Decodable {
        var sku: String
        var quantity: Int64
    }

    struct Payment: Decodable {
        var amountMinor: Int64
        var currency: String
        var method: String

        enum CodingKeys: String, CodingKey {
            case amountMinor = "amount_minor"
            case currency
            case method
        }
    }

    var requestID: String
    var userID: String
    var items: [Item]
    var payment: Payment

    enum CodingKeys: String, CodingKey {
        case requestID = "request_id"
        case userID = "user_id"
        case items
        case payment
    }
}
