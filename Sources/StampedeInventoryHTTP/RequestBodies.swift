import Foundation
import Hummingbird
import NIOCore
import StampedeHTTPKit

/// `POST /api/v1/inventory/deduct` and each item of a batch.
struct DeductBody: Decodable {
    var sku: String
    var userID: String
    var orderID: String
    var amount: Int64

    enum CodingKeys: String, CodingKey {
        case sku
        case userID = "user_id"
        case orderID = "order_id"
        case amount
    }
}

/// `PUT /api/v1/inventory/{sku}`.
struct PutItemBody: Decodable {
    var stock: Int64
    var limitPerUser: Int64?
    var rateWindowMilliseconds: Int64?

    enum CodingKeys: String, CodingKey {
        case stock
        case limitPerUser = "limit_per_user"
        case rateWindowMilliseconds = "rate_window_ms"
    }
}

/// `POST /api/v1/inventory/deduct/batch`.
struct BatchBody: Decodable {
    var items: [DeductBody]
}

/// `POST /api/v1/inventory/release`.
struct ReleaseBody: Decodable {
    var orderID: String

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
    }
}

/// `POST /api/v1/inventory/reserve`.
struct ReserveBody: Decodable {
    var sku: String
    var userID: String
    var orderID: String
    var amount: Int64
    var holdMilliseconds: Int64

    enum CodingKeys: String, CodingKey {
        case sku
        case userID = "user_id"
        case orderID = "order_id"
        case amount
        case holdMilliseconds = "hold_ms"
    }
}

/// `POST /api/v1/inventory/confirm`.
struct ConfirmBody: Decodable {
    var orderID: String

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
    }
}
