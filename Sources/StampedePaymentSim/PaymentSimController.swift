import Foundation
import HTTPTypes
import Hummingbird
import StampedeHTTPKit
import StampedeOrders
import Tracing

/// The simulator's provider API, shaped like a card processor's:
///
/// - `POST /v1/charges` with `Idempotency-Key` and `{order_id, user_id, amount_minor, currency, method}` →
///   `200 {id, status: succeeded | declined}`; the same key answers the first charge again.
/// - `GET /v1/charges/{key}` → the charge, or `404 charge_not_found`.
/// - `POST /v1/charges/{key}/refund` → `200 {status: refunded}`, or `404 charge_not_found` (the key is then
///   voided: a later charge under it is declined).
/// - `GET /v1/stats` → totals, `PUT /v1/faults` → changes the faults at run time.
///
/// Faults: `failure_rate` answers 503 before doing anything; `timeout_after_commit_rate` makes the charge and
/// then holds the answer for `hangMilliseconds` (past any caller's timeout); `unreachable` holds every answer
/// without doing anything.
public struct PaymentSimController: Sendable {
    let simulator: PaymentSimulator
    /// How long a lost answer is held: longer than the callers' timeouts.
    let hangMilliseconds: Int64

    public init(simulator: PaymentSimulator, hangMilliseconds: Int64 = 30_000) {
        self.simulator = simulator
        self.hangMilliseconds = hangMilliseconds
    }

    public func addRoutes(to router: Router<AppRequestContext>) {
        router.post("v1/charges", use: charge)
        router.get("v1/charges/{key}", use: status)
        router.post("v1/charges/{key}/refund", use: refund)
        router.get("v1/stats", use: stats)
        router.put("v1/faults", use: setFaults)
    }

    struct ChargeBody: Decodable {
        var orderID: String
        var userID: String
        var amountMinor: Int64
        var currency: String
        var method: String

        enum CodingKeys: String, CodingKey {
            case orderID = "order_id"
            case userID = "user_id"
            case amountMinor = "amount_minor"
            case currency
            case method
        }
    }

    @Sendable func charge(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let key = request.headers[Self.idempotencyKey], !key.isEmpty, key.utf8.count <= 256 else {
            throw APIError.invalidRequest(field: "Idempotency-Key", "header 'Idempotency-Key' is required")
        }
        let body = try await JSONBody.decode(ChargeBody.self, from: request, context: context)
        guard body.amountMinor > 0, Money.isCurrencyCode(body.currency) else {
            throw APIError.invalidRequest(field: "amount_minor", "a positive amount in an ISO 4217 currency")
        }
        try await delay()
        do {
            let charge = try simulator.charge(
                idempotencyKey: key,
                orderID: body.orderID,
                amount: Money(amountMinor: body.amountMinor, currency: body.currency)
            )
            if charge.status == .declined {
                // The provider's side of a declined payment keeps its spans too.
                InstrumentationSystem.tracer.withSpan("payment_sim.decline", ofKind: .internal) { span in
                    span.attributes["order.id"] = body.orderID
                    span.addEvent(SpanEvent(name: OrderTelemetry.keepTraceEvent))
                }
            }
            return Self.response(charge)
        } catch {
            return try await fault(error)
        }
    }

    @Sendable func status(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = try context.parameters.require("key")
        try await delay()
        do {
            guard let charge = try simulator.charge(idempotencyKey: key) else { throw Self.notFound }
            return Self.response(charge)
        } catch let error as PaymentSimulator.Fault {
            return try await fault(error)
        }
    }

    @Sendable func refund(_ request: Request, context: AppRequestContext) async throws -> Response {
        let key = try context.parameters.require("key")
        try await delay()
        do {
            guard let charge = try simulator.refund(chargeKey: key) else { throw Self.notFound }
            var json = JSONWriter()
            json.beginObject()
            json.field("id", charge.id)
            json.field("status", "refunded")
            json.endObject()
            return json.response(status: .ok)
        } catch let error as PaymentSimulator.Fault {
            return try await fault(error)
        }
    }

    @Sendable func stats(_ request: Request, context: AppRequestContext) async throws -> Response {
        let totals = simulator.totals
        var json = JSONWriter()
        json.beginObject()
        json.field("charges", totals.charges)
        json.field("succeeded", totals.succeeded)
        json.field("refunded", totals.refunded)
        json.field("orders_charged_twice", totals.ordersChargedTwice)
        json.endObject()
        return json.response(status: .ok)
    }

    struct FaultsBody: Decodable {
        var latencyMilliseconds: Int64?
        var failureRate: Double?
        var declineRate: Double?
        var unreachable: Bool?
        var timeoutAfterCommitRate: Double?

        enum CodingKeys: String, CodingKey {
            case latencyMilliseconds = "latency_ms"
            case failureRate = "failure_rate"
            case declineRate = "decline_rate"
            case unreachable
            case timeoutAfterCommitRate = "timeout_after_commit_rate"
        }
    }

    @Sendable func setFaults(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(FaultsBody.self, from: request, context: context)
        var faults = simulator.faults
        if let value = body.latencyMilliseconds { faults.latencyMilliseconds = value }
        if let value = body.failureRate { faults.failureRate = value }
        if let value = body.declineRate { faults.declineRate = value }
        if let value = body.unreachable { faults.unreachable = value }
        if let value = body.timeoutAfterCommitRate { faults.timeoutAfterCommitRate = value }
        if let field = faults.invalidField {
            throw APIError.invalidRequest(field: field, "field '\(field)' is out of range (rates 0 to 1)")
        }
        simulator.faults = faults
        var json = JSONWriter()
        json.beginObject()
        json.field("success", true)
        json.endObject()
        return json.response(status: .ok)
    }

    private func delay() async throws {
        let latency = simulator.latencyMilliseconds
        if latency > 0 { try await Task.sleep(for: .milliseconds(latency)) }
    }

    /// A failure before any work is a 503; a lost answer or an unreachable provider never answers in time.
    private func fault(_ error: PaymentSimulator.Fault) async throws -> Response {
        switch error {
        case .notApplied(let reason) where !simulator.faults.unreachable:
            throw APIError(.serviceUnavailable, code: "provider_unavailable", message: reason)
        case .notApplied, .answerLost:
            try await Task.sleep(for: .milliseconds(hangMilliseconds))
            throw APIError(.gatewayTimeout, code: "provider_timeout", message: "the answer was lost")
        }
    }

    private static func response(_ charge: PaymentSimulator.Charge) -> Response {
        var json = JSONWriter()
        json.beginObject()
        json.field("id", charge.id)
        json.field("status", charge.status.rawValue)
        json.field("amount_minor", charge.amount.amountMinor)
        json.field("currency", charge.amount.currency)
        json.field("refunded", charge.refunded)
        json.endObject()
        return json.response(status: .ok)
    }

    static let idempotencyKey = HTTPField.Name("Idempotency-Key")!
    private static let notFound = APIError(.notFound, code: "charge_not_found", message: "no charge under this key")
}
