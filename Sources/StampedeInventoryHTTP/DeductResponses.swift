import HTTPTypes
import Hummingbird
import StampedeHTTPKit
import StampedeInventory

/// The JSON answers of deduct, reserve, confirm and release, and the HTTP status each business outcome maps to.
enum DeductResponses {
    static func status(of code: DeductCode) -> HTTPResponse.Status {
        switch code {
        case .success: .ok
        case .stockNotFound: .notFound
        case .orderConflict, .userLimitExceeded, .insufficientStock, .orderCancelled: .conflict
        case .rateLimited: .tooManyRequests
        case .capacityExhausted: .serviceUnavailable
        }
    }

    static func message(of code: DeductCode) -> String {
        switch code {
        case .success: "success"
        case .stockNotFound: "stock not found"
        case .orderConflict: "order id was already used with a different sku, user or amount"
        case .rateLimited: "too many requests from this user for this sku; retry after the rate window"
        case .userLimitExceeded: "purchase would exceed the per-user limit of this sku"
        case .insufficientStock: "insufficient stock"
        case .capacityExhausted: "the store holds its maximum of order records"
        case .orderCancelled: "a release of this order id came first; the id cannot take units any more"
        }
    }

    /// Writes one outcome's fields into an open JSON object.
    static func write(_ outcome: DeductOutcome, into json: inout JSONWriter) {
        json.field("success", outcome.isSuccess)
        if outcome.isSuccess {
            json.field("new_stock", outcome.stock)
            json.field("message", "success")
            if outcome.replayed { json.field("replayed", true) }
        } else {
            json.field("code", outcome.code.name)
            json.field("message", message(of: outcome.code))
            if outcome.code == .insufficientStock { json.field("current_stock", outcome.stock) }
            json.field("retryable", outcome.code.isRetryable)
        }
    }

    static func response(_ outcome: DeductOutcome) -> Response {
        json(outcome).response(status: status(of: outcome.code))
    }

    /// A reservation's answer: the deduct's fields, and the hold's deadline on success.
    static func reservationResponse(_ outcome: DeductOutcome, orderID: String) -> Response {
        var json = JSONWriter()
        json.beginObject()
        write(outcome, into: &json)
        if let deadline = outcome.holdDeadlineMilliseconds {
            json.field("order_id", orderID)
            json.field("hold_expires_at_ms", deadline)
        }
        json.endObject()
        return json.response(status: status(of: outcome.code))
    }

    static func status(of code: ConfirmCode) -> HTTPResponse.Status {
        switch code {
        case .confirmed, .alreadyConfirmed: .ok
        case .orderNotFound: .notFound
        case .holdExpired, .orderReleased, .notAReservation, .orderSuperseded: .conflict
        }
    }

    static func message(of code: ConfirmCode) -> String {
        switch code {
        case .confirmed: "the reservation is now a sale"
        case .alreadyConfirmed: "the reservation was confirmed before; nothing changed"
        case .orderNotFound: "no order with this id"
        case .holdExpired: "the hold passed its deadline and its units went back to stock"
        case .orderReleased: "the reservation was released; its units went back to stock"
        case .notAReservation: "the order is a plain deduct: its sale was final at once"
        case .orderSuperseded: "the item was reset after this reservation; its units no longer exist"
        }
    }

    static func response(_ outcome: ConfirmOutcome, orderID: String) -> Response {
        var json = JSONWriter()
        json.beginObject()
        json.field("success", outcome.isConfirmed)
        if !outcome.isConfirmed { json.field("code", outcome.code.name) }
        json.field("order_id", orderID)
        if outcome.code != .orderNotFound {
            json.field("sku", outcome.sku)
            json.field("amount", outcome.amount)
        }
        json.field("message", message(of: outcome.code))
        if outcome.isConfirmed { json.field("result", outcome.code.name) }
        json.endObject()
        return json.response(status: status(of: outcome.code))
    }

    static func json(_ outcome: DeductOutcome) -> JSONWriter {
        var json = JSONWriter()
        json.beginObject()
        write(outcome, into: &json)
        json.endObject()
        return json
    }

    static func response(_ outcome: ReleaseOutcome) -> Response {
        var json = JSONWriter()
        json.beginObject()
        switch outcome.code {
        case .released, .alreadyReleased:
            json.field("success", true)
            json.field("released", outcome.releasedAmount)
            json.field("new_stock", outcome.stock)
            json.field("sku", outcome.sku)
            json.field("message", outcome.code.name)
        case .orderNotFound, .orderSuperseded:
            json.field("success", false)
            json.field("code", outcome.code.name)
            json.field(
                "message",
                outcome.code == .orderNotFound
                    ? "no order with this id" : "the item was reset after this order; its units are not returned"
            )
        }
        json.endObject()
        let status: HTTPResponse.Status =
            switch outcome.code {
            case .released, .alreadyReleased: .ok
            case .orderNotFound: .notFound
            case .orderSuperseded: .conflict
            }
        return json.response(status: status)
    }

    static func write(_ item: ItemSnapshot, into json: inout JSONWriter) {
        json.field("sku", item.sku)
        json.field("stock", item.stock)
        json.field("sold", item.sold)
        json.field("reserved", item.reserved)
        if let limit = item.limitPerUser {
            json.field("limit_per_user", limit)
        } else {
            json.nullField("limit_per_user")
        }
        json.field("rate_window_ms", item.rateWindowMilliseconds)
    }
}
