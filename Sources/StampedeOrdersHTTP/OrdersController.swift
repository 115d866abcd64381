import Foundation
import HTTPTypes
import Hummingbird
import StampedeHTTPKit
import StampedeOrders
import Tracing

/// The orders API: place, read, cancel, list by user.
public struct OrdersController: Sendable {
    let service: OrderService
    let tracer: any Tracer

    /// Most orders one page of `GET /api/v1/orders` returns.
    public static let pageMax = 100

    public init(service: OrderService, tracer: any Tracer) {
        self.service = service
        self.tracer = tracer
    }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.post(use: place)
        group.get(use: list)
        group.get("{order_id}", use: get)
        group.post("{order_id}/cancel", use: cancel)
    }

    /// `POST /api/v1/orders`: answers once the saga ended (up to the service's wait), or at once with 202 when
    /// the request says `Prefer: respond-async` or `?wait=false`.
    @Sendable func place(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(PlaceOrderBody.self, from: request, context: context)
        let order = OrderRequest(
            requestID: body.requestID,
            userID: body.userID,
            lines: body.items.map { OrderLine(sku: $0.sku, quantity: $0.quantity) },
            payment: PaymentDetails(
                amount: Money(amountMinor: body.payment.amountMinor, currency: body.payment.currency),
                method: body.payment.method
            )
        )
        let respondAsync =
            request.headers[HTTPField.Name("Prefer")!]?.contains("respond-async") == true
            || request.uri.queryParameters["wait"].map { $0 == "false" } == true
        let outcome = try await tracer.withSpan("order_service.create_order", ofKind: .internal) { span in
            span.updateAttributes { attributes in
                attributes["user.id"] = order.userID
                attributes["request.id"] = order.requestID
                attributes["items.count"] = order.lines.count
            }
            let outcome = try await Self.storeCall { try await service.place(order, waitForPayment: !respondAsync) }
            switch outcome {
            case .placed(let saga), .replayed(let saga), .conflict(let saga):
                span.attributes["order.id"] = saga.orderID
                span.attributes["order.status"] = saga.status.rawValue
            case .busy, .invalid:
                break
            }
            span.attributes["order.result"] = Self.resultName(outcome)
            return outcome
        }
        switch outcome {
        case .placed(let saga):
            return OrderResponses.response(saga, status: OrderResponses.status(of: saga, replayed: false))
        case .replayed(let saga):
            return OrderResponses.response(
                saga,
                status: OrderResponses.status(of: saga, replayed: true),
                replayed: true
            )
        case .conflict:
            throw APIError(
                .conflict,
                code: "order_conflict",
                message: "request_id was already used by this user with a different order"
            )
        case .busy(let inFlightMax):
            throw Self.busy(inFlightMax)
        case .invalid(let problem):
            throw APIError.invalidRequest(field: problem.field, "field '\(problem.field)' \(problem.reason)")
        }
    }

    @Sendable func get(_ request: Request, context: AppRequestContext) async throws -> Response {
        let orderID = try Self.orderID(context)
        guard let saga = try await Self.storeCall({ try await service.order(id: orderID) }) else {
            throw Self.notFound
        }
        var json = JSONWriter()
        json.beginObject()
        OrderResponses.write(saga, into: &json)
        json.endObject()
        return json.response(status: .ok)
    }

    @Sendable func cancel(_ request: Request, context: AppRequestContext) async throws -> Response {
        let orderID = try Self.orderID(context)
        let outcome: CancelOutcome = try await Self.storeCall { try await service.cancel(id: orderID) }
        switch outcome {
        case .notFound:
            throw Self.notFound
        case .busy(let inFlightMax):
            throw Self.busy(inFlightMax)
        case .alreadyFinal(let saga) where saga.status == .confirmed:
            throw APIError(
                .conflict,
                code: "order_final",
                message: "the order is confirmed; it can no longer be cancelled"
            )
        case .alreadyFinal(let saga), .accepted(let saga):
            var json = JSONWriter()
            json.beginObject()
            OrderResponses.write(saga, into: &json)
            json.endObject()
            return json.response(status: saga.status.isFinal ? .ok : .accepted)
        }
    }

    /// `GET /api/v1/orders?user_id=…&limit=…&after=…`, newest first.
    @Sendable func list(_ request: Request, context: AppRequestContext) async throws -> Response {
        let parameters = request.uri.queryParameters
        guard let userID = parameters["user_id"].map(String.init), !userID.isEmpty else {
            throw APIError.invalidRequest(field: "user_id", "query parameter 'user_id' is required")
        }
        if let problem = OrderRequest.checkID(userID, field: "user_id", limits: service.configuration.limits) {
            throw APIError.invalidRequest(field: problem.field, "field 'user_id' \(problem.reason)")
        }
        var limit = 20
        if let text = parameters["limit"] {
            guard let value = Int(String(text)), value >= 1, value <= Self.pageMax else {
                throw APIError.invalidRequest(
                    field: "limit",
                    "query parameter 'limit' must be from 1 to \(Self.pageMax)"
                )
            }
            limit = value
        }
        let after = parameters["after"].map(String.init)
        let page = try await Self.storeCall { try await service.orders(userID: userID, after: after, limit: limit) }
        var json = JSONWriter()
        json.beginObject()
        json.beginArray("orders")
        for saga in page.orders {
            json.beginObject()
            OrderResponses.write(saga, into: &json, steps: false)
            json.endObject()
        }
        json.endArray()
        if let cursor = page.nextCursor { json.field("next_cursor", cursor) } else { json.nullField("next_cursor") }
        json.endObject()
        return json.response(status: .ok)
    }

    private static let notFound = APIError(.notFound, code: "order_not_found", message: "no order with this id")

    private static func busy(_ inFlightMax: Int) -> APIError {
        APIError(
            .serviceUnavailable,
            code: "orders_busy",
            message: "\(inFlightMax) orders are being processed; retry shortly",
            headers: [.retryAfter: "1"]
        )
    }

    /// The order store's operating failures become 503 answers with its code (`storage_failed`,
    /// `capacity_exhausted`, …); nothing else changes.
    private static func storeCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as OrderStoreError {
            throw APIError(
                .serviceUnavailable,
                code: "\(error.code)",
                message: "order store unavailable: \(error.code)"
            )
        }
    }

    private static func orderID(_ context: AppRequestContext) throws -> String {
        let raw = try context.parameters.require("order_id")
        guard let decoded = raw.removingPercentEncoding, !decoded.isEmpty, decoded.utf8.count <= 64 else {
            throw APIError.invalidRequest(field: "order_id", "path parameter 'order_id' is not an order id")
        }
        return decoded
    }

    private static func resultName(_ outcome: PlaceOutcome) -> String {
        switch outcome {
        case .placed: "placed"
        case .replayed: "replayed"
        case .conflict: "conflict"
        case .busy: "busy"
        case .invalid: "invalid_request"
        }
    }
}
