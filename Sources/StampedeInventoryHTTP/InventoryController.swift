import Foundation
import Hummingbird
import Logging
import ServiceContextModule
import StampedeHTTPKit
import StampedeInventory
import StampedeTelemetry
import Tracing

/// The inventory API: put, get, deduct, batch deduct, reserve, confirm, log and release.
public struct InventoryController: Sendable {
    let store: any InventoryStore
    let metrics: InventoryMetrics
    let tracer: any Tracer
    /// The deduct route's decoding, span and metrics, shared with the event-loop path.
    let endpoint: DeductEndpoint

    public init(store: any InventoryStore, metrics: InventoryMetrics, tracer: any Tracer) {
        self.store = store
        self.metrics = metrics
        self.tracer = tracer
        self.endpoint = DeductEndpoint(store: store, metrics: metrics, tracer: tracer)
    }

    var limits: InventoryLimits { store.limits }

    public func addRoutes(to group: RouterGroup<AppRequestContext>) {
        group.put("{sku}", use: putItem)
        group.get("{sku}", use: getItem)
        group.post("deduct", use: deduct)
        group.post("deduct/batch", use: deductBatch)
        group.get("log/{order_id}", use: log)
        group.post("release", use: release)
        group.post("reserve", use: reserve)
        group.post("confirm", use: confirm)
    }

    @Sendable func putItem(_ request: Request, context: AppRequestContext) async throws -> Response {
        let sku = try skuParameter(context)
        let body = try await JSONBody.decode(PutItemBody.self, from: request, context: context)
        let config = ItemConfig(
            stock: body.stock,
            limitPerUser: body.limitPerUser,
            rateWindowMilliseconds: body.rateWindowMilliseconds ?? InventoryLimits.rateWindowMillisecondsDefault
        )
        if let invalid = config.invalidField(limits: limits) {
            throw APIError.invalidRequest(field: invalid.field, invalid.reason)
        }
        let outcome = try await storeCall { try await store.putItem(sku: sku, config: config) }
        switch outcome {
        case .created(let item), .reset(let item):
            metrics.recordStock(sku: sku, stock: item.stock)
            var json = JSONWriter()
            json.beginObject()
            DeductResponses.write(item, into: &json)
            json.endObject()
            if case .created = outcome { return json.response(status: .created) }
            return json.response(status: .ok)
        case .tooManyItems(let max):
            throw APIError(.conflict, code: "too_many_items", message: "the store holds its maximum of \(max) items")
        }
    }

    @Sendable func getItem(_ request: Request, context: AppRequestContext) async throws -> Response {
        let sku = try skuParameter(context)
        guard let item = try await storeCall({ try await store.item(sku: sku) }) else {
            throw APIError(.notFound, code: "stock_not_found", message: "stock not found")
        }
        var json = JSONWriter()
        json.beginObject()
        DeductResponses.write(item, into: &json)
        json.endObject()
        return json.response(status: .ok)
    }

    @Sendable func deduct(_ request: Request, context: AppRequestContext) async throws -> Response {
        let started = InventoryClock.monotonicNanoseconds()
        let deduct: DeductRequest
        do {
            deduct = try await endpoint.decode(JSONBody.collect(request, context: context))
        } catch {
            endpoint.recordInvalid(started: started)
            throw error
        }
        let span = endpoint.startSpan(deduct)
        let result: Result<DeductOutcome, any Error>
        do {
            result = .success(try await ServiceContext.withValue(span.context) { try await store.deduct(deduct) })
        } catch {
            result = .failure(error)
        }
        return try DeductResponses.response(endpoint.finish(result, of: deduct, span: span, started: started).get())
    }

    @Sendable func deductBatch(_ request: Request, context: AppRequestContext) async throws -> Response {
        let started = InventoryClock.monotonicNanoseconds()
        let body = try await JSONBody.decode(BatchBody.self, from: request, context: context)
        guard !body.items.isEmpty, body.items.count <= limits.batchItemsMax else {
            throw APIError.invalidRequest(field: "items", "must hold 1 to \(limits.batchItemsMax) deducts")
        }
        // Invalid items get their own error result; the valid ones go to the store together.
        var valid: [DeductRequest] = []
        var invalid: [Int: InvalidField] = [:]
        for (index, item) in body.items.enumerated() {
            let deduct = DeductRequest(sku: item.sku, userID: item.userID, orderID: item.orderID, amount: item.amount)
            if let problem = deduct.invalidField(limits: limits) {
                invalid[index] = problem
            } else {
                valid.append(deduct)
            }
        }
        let outcomes = try await tracer.withSpan("inventory.batch_deduct", ofKind: .internal) { span in
            span.attributes["batch.size"] = body.items.count
            return try await storeCall { try await store.deductBatch(valid) }
        }
        let elapsed = InventoryClock.monotonicNanoseconds() - started
        var json = JSONWriter()
        json.beginObject()
        json.beginArray("results")
        var next = outcomes.makeIterator()
        for index in body.items.indices {
            json.beginObject()
            if let problem = invalid[index] {
                metrics.recordDeduct(result: InventoryMetrics.invalidResult, durationNanoseconds: elapsed)
                json.field("success", false)
                json.field("code", "invalid_request")
                json.field("message", "field '\(problem.field)' \(problem.reason)")
                json.field("field", problem.field)
                json.field("status", 400)
            } else {
                let outcome = next.next()!
                metrics.recordDeduct(result: outcome.code.name, durationNanoseconds: elapsed)
                if outcome.isSuccess && !outcome.replayed {
                    metrics.recordStock(sku: body.items[index].sku, stock: outcome.stock)
                }
                DeductResponses.write(outcome, into: &json)
                json.field("status", Int(DeductResponses.status(of: outcome.code).code))
            }
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.response(status: .ok)
    }

    @Sendable func log(_ request: Request, context: AppRequestContext) async throws -> Response {
        let orderID = try pathParameter("order_id", context)
        if let problem = InvalidField.checkID(orderID, field: "order_id", limits: limits) {
            throw APIError.invalidRequest(field: problem.field, problem.reason)
        }
        guard let order = try await storeCall({ try await store.log(orderID: orderID) }) else {
            throw APIError(.notFound, code: "order_not_found", message: "no order with this id")
        }
        var json = JSONWriter()
        json.beginObject()
        json.field("order_id", order.orderID)
        json.field("sku", order.sku)
        json.field("user_id", order.userID)
        json.field("amount", order.amount)
        json.field("old_stock", order.oldStock)
        json.field("new_stock", order.newStock)
        json.field("timestamp", order.timestampMilliseconds / 1000)
        json.field("timestamp_ms", order.timestampMilliseconds)
        json.field("released", order.released)
        json.field("status", order.status.rawValue)
        if let deadline = order.holdDeadlineMilliseconds { json.field("hold_expires_at_ms", deadline) }
        json.endObject()
        return json.response(status: .ok)
    }

    @Sendable func release(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ReleaseBody.self, from: request, context: context)
        if let problem = InvalidField.checkID(body.orderID, field: "order_id", limits: limits) {
            throw APIError.invalidRequest(field: problem.field, problem.reason)
        }
        let outcome = try await tracer.withSpan("inventory.release", ofKind: .internal) { span in
            span.attributes["order.id"] = body.orderID
            let outcome = try await storeCall { try await store.release(orderID: body.orderID) }
            span.attributes["inventory.result"] = outcome.code.name
            return outcome
        }
        if outcome.code == .released { metrics.recordStock(sku: outcome.sku, stock: outcome.stock) }
        return DeductResponses.response(outcome)
    }

    /// `POST reserve`: takes units out of the stock for `hold_ms`, until confirmed, released or expired.
    @Sendable func reserve(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ReserveBody.self, from: request, context: context)
        let reservation = DeductRequest(
            sku: body.sku,
            userID: body.userID,
            orderID: body.orderID,
            amount: body.amount,
            holdMilliseconds: body.holdMilliseconds
        )
        if let problem = reservation.invalidField(limits: limits) {
            metrics.recordReservation(result: InventoryMetrics.invalidResult)
            throw APIError.invalidRequest(field: problem.field, problem.reason)
        }
        let outcome: DeductOutcome
        do {
            outcome = try await tracer.withSpan("inventory.reserve", ofKind: .internal) { span in
                span.updateAttributes { attributes in
                    attributes["inventory.sku"] = reservation.sku
                    attributes["user.id"] = reservation.userID
                    attributes["order.id"] = reservation.orderID
                    attributes["inventory.amount"] = Int(reservation.amount)
                    attributes["inventory.hold_ms"] = Int(body.holdMilliseconds)
                }
                let outcome = try await store.deduct(reservation)
                span.attributes["inventory.result"] = outcome.code.name
                return outcome
            }
        } catch {
            metrics.recordReservation(result: InventoryMetrics.errorResult)
            throw DeductEndpoint.clientError(error)
        }
        metrics.recordReservation(result: outcome.code.name)
        if outcome.isSuccess && !outcome.replayed { metrics.recordStock(sku: reservation.sku, stock: outcome.stock) }
        return DeductResponses.reservationResponse(outcome, orderID: reservation.orderID)
    }

    /// `POST confirm`: a live hold becomes a sale; after its deadline, `409 hold_expired`.
    @Sendable func confirm(_ request: Request, context: AppRequestContext) async throws -> Response {
        let body = try await JSONBody.decode(ConfirmBody.self, from: request, context: context)
        if let problem = InvalidField.checkID(body.orderID, field: "order_id", limits: limits) {
            throw APIError.invalidRequest(field: problem.field, problem.reason)
        }
        let outcome = try await tracer.withSpan("inventory.confirm", ofKind: .internal) { span in
            span.attributes["order.id"] = body.orderID
            let outcome = try await storeCall { try await store.confirm(orderID: body.orderID) }
            span.attributes["inventory.result"] = outcome.code.name
            return outcome
        }
        metrics.recordConfirm(result: outcome.code.name)
        return DeductResponses.response(outcome, orderID: body.orderID)
    }

    private func skuParameter(_ context: AppRequestContext) throws -> String {
        let sku = try pathParameter("sku", context)
        if let problem = InvalidField.checkID(sku, field: "sku", limits: limits) {
            throw APIError.invalidRequest(field: problem.field, problem.reason)
        }
        return sku
    }

    /// A path parameter, percent-decoded.
    private func pathParameter(_ name: String, _ context: AppRequestContext) throws -> String {
        let raw = try context.parameters.require(name)
        guard let decoded = raw.removingPercentEncoding else {
            throw APIError.invalidRequest(field: name, "is not valid percent-encoded UTF-8")
        }
        return decoded
    }

    /// Maps operating failures of the store to 503 answers with a stable code.
    private func storeCall<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch {
            throw DeductEndpoint.clientError(error)
        }
    }
}
