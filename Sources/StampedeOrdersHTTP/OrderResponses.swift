import HTTPTypes
import Hummingbird
import StampedeHTTPKit
import StampedeOrders

/// The JSON of an order and the HTTP status of each outcome.
enum OrderResponses {
    /// The status of an order that was placed (or found again): 201 (200 for a replay) once confirmed, 202 while
    /// its saga runs, 409 (402 for a declined payment) once compensated, with the reason as `code`.
    static func status(of saga: CheckoutSaga, replayed: Bool) -> HTTPResponse.Status {
        switch saga.status {
        case .confirmed: replayed ? .ok : .created
        case .cancelled, .expired, .failed:
            saga.reason == .paymentDeclined
                ? HTTPResponse.Status(code: 402, reasonPhrase: "Payment Required") : .conflict
        case .created, .reserving, .reserved, .charging, .paid, .compensating: .accepted
        }
    }

    static func response(_ saga: CheckoutSaga, status: HTTPResponse.Status, replayed: Bool = false) -> Response {
        var json = JSONWriter()
        json.beginObject()
        let success = saga.status == .confirmed || !saga.status.isFinal
        json.field("success", success)
        if !success {
            json.field("code", saga.status == .failed ? "order_failed" : saga.reason?.rawValue ?? "cancelled")
        }
        if replayed { json.field("replayed", true) }
        write(saga, into: &json)
        json.endObject()
        var response = json.response(status: status)
        if status == .accepted { response.headers[.location] = "/api/v1/orders/\(saga.orderID)" }
        return response
    }

    /// The order's fields, into an open object.
    static func write(_ saga: CheckoutSaga, into json: inout JSONWriter, steps: Bool = true) {
        json.field("order_id", saga.orderID)
        json.field("request_id", saga.request.requestID)
        json.field("user_id", saga.request.userID)
        json.field("status", saga.status.rawValue)
        if let reason = saga.reason { json.field("reason", reason.rawValue) }
        json.beginArray("items")
        for line in saga.request.lines {
            json.beginObject()
            json.field("sku", line.sku)
            json.field("quantity", line.quantity)
            json.endObject()
        }
        json.endArray()
        json.beginObject("payment")
        json.field("amount_minor", saga.request.payment.amount.amountMinor)
        json.field("currency", saga.request.payment.amount.currency)
        json.field("method", saga.request.payment.method)
        if let paymentID = saga.paymentID { json.field("payment_id", paymentID) }
        json.field("refunded", saga.refunded)
        json.endObject()
        json.field("created_at_ms", saga.createdAtMilliseconds)
        json.field("updated_at_ms", saga.updatedAtMilliseconds)
        json.field("deadline_at_ms", saga.deadlineMilliseconds)
        if let traceID = saga.traceID { json.field("trace_id", traceID) }
        guard steps else { return }
        json.beginArray("steps")
        for record in saga.history {
            json.beginObject()
            json.field("step", record.step.rawValue)
            json.field("attempt", record.attempt)
            json.field("result", record.result)
            json.field("at_ms", record.atMilliseconds)
            json.endObject()
        }
        json.endArray()
        if saga.historyDropped > 0 { json.field("steps_dropped", saga.historyDropped) }
    }
}
