import Foundation
import HTTPTypes
import HummingbirdTesting
import InMemoryTracing
import StampedeApp
import StampedeOrders
import StampedePaymentSim
import Testing
import Tracing

@Suite("Orders HTTP API: checkout, outcomes, idempotency, cancel, traces")
struct OrdersAPITests {
    @Test func aCheckoutReservesChargesAndConfirmsAsOneTrace() async throws {
        try await OrdersTestApp.run { app, client in
            try await client.call(.put, "/api/v1/inventory/HOT", #"{"stock":5,"rate_window_ms":0}"#)
            let (status, body) = try await client.order("r1", quantity: 2)
            #expect(status == .created)
            #expect(body["status"] as? String == "confirmed")
            let steps = (body["steps"] as? [[String: Any]] ?? []).compactMap { $0["step"] as? String }
            #expect(steps == ["reserve", "charge", "confirm"])
            #expect(try await client.stock() == (3, 0, 2))
            let id = try #require(body["order_id"] as? String)
            let (found, order) = try await client.call(.get, "/api/v1/orders/\(id)")
            #expect(found == .ok && order["status"] as? String == "confirmed")
            #expect((order["payment"] as? [String: Any])?["payment_id"] as? String != nil)
            #expect(app.payments.totals.succeeded == 1)

            // One trace: the create span is the ancestor of every step's client span.
            let spans = app.tracer.finishedSpans
            let root = try #require(spans.first { $0.operationName == "order_service.create_order" })
            for name in ["inventory.reserve", "payment.create", "inventory.confirm"] {
                let span = try #require(spans.first { $0.operationName == name }, "\(name) was traced")
                #expect(span.spanContext.traceID == root.spanContext.traceID)
                #expect(span.kind == .client)
                #expect(span.attributes["saga.step"] != nil && span.attributes["saga.attempt"] != nil)
            }
            #expect(root.attributes["order.status"]?.toSpanAttribute() == "confirmed".toSpanAttribute())
        }
    }

    @Test func insufficientStockIsA409AndChangesNothing() async throws {
        try await OrdersTestApp.run { app, client in
            try await client.call(.put, "/api/v1/inventory/HOT", #"{"stock":1,"rate_window_ms":0}"#)
            let (status, body) = try await client.order("r1", quantity: 2)
            #expect(status == .conflict)
            #expect(body["code"] as? String == "insufficient_stock")
            #expect(try await client.stock() == (1, 0, 0))
            #expect(app.payments.totals.charges == 0)
            // A business outcome is an attribute, not a span error.
            let reserve = try #require(app.tracer.finishedSpans.first { $0.operationName == "inventory.reserve" })
            #expect(reserve.status == nil)
            #expect(reserve.attributes["saga.result"]?.toSpanAttribute() == "insufficient_stock".toSpanAttribute())
        }
    }

    @Test func aDeclinedPaymentIsA402AndTheUnitsGoBack() async throws {
        try await OrdersTestApp.run { app, client in
            app.payments.faults = PaymentSimulator.Faults(declineRate: 1)
            try await client.call(.put, "/api/v1/inventory/HOT", #"{"stock":5,"rate_window_ms":0}"#)
            let (status, body) = try await client.order("r1", quantity: 2)
            #expect(status.code == 402)
            #expect(body["code"] as? String == "payment_declined")
            #expect(try await client.stock() == (5, 0, 0))
            // The compensation's calls are children of one saga.compensate span, in the order's trace.
            let spans = app.tracer.finishedSpans
            let compensate = try #require(spans.first { $0.operationName == "saga.compensate" })
            let release = try #require(spans.first { $0.operationName == "inventory.release" })
            #expect(release.parentSpanID == compensate.spanID)
            let root = try #require(spans.first { $0.operationName == "order_service.create_order" })
            #expect(compensate.traceID == root.traceID)
            #expect(compensate.attributes["saga.reason"]?.toSpanAttribute() == "payment_declined".toSpanAttribute())
        }
    }

    @Test func aLostChargeAnswerStillChargesExactlyOnce() async throws {
        try await OrdersTestApp.run { app, client in
            app.payments.faults = PaymentSimulator.Faults(timeoutAfterCommitRate: 1)
            try await client.call(.put, "/api/v1/inventory/HOT", #"{"stock":5,"rate_window_ms":0}"#)
            let (status, body) = try await client.order("r1")
            #expect(status == .created)
            let steps = (body["steps"] as? [[String: Any]] ?? []).map { "\($0["step"]!):\($0["result"]!)" }
            #expect(steps == ["reserve:done", "charge:uncertain", "charge_status:done", "confirm:done"])
            let totals = app.payments.totals
            #expect(totals.charges == 1 && totals.succeeded == 1 && totals.ordersChargedTwice == 0)
            // The retry shows on the status query's span.
            let query = try #require(app.tracer.finishedSpans.first { $0.operationName == "payment.status" })
            #expect(query.events.contains { $0.name == "retry_attempt" })
        }
    }

    @Test func theSameRequestReplaysAndAnotherPayloadConflicts() async throws {
        try await OrdersTestApp.run { app, client in
            try await client.call(.put, "/api/v1/inventory/HOT", #"{"stock":5,"rate_window_ms":0}"#)
            let (_, first) = try await client.order("r1")
            let (again, replay) = try await client.order("r1")
            #expect(again == .ok)
            #expect(
                replay["replayed"] as? Bool == true && replay["order_id"] as? String == first["order_id"] as? String
            )
            let (conflict, body) = try await client.order("r1", quantity: 2)
            #expect(conflict == .conflict && body["code"] as? String == "order_conflict")
            // Another user's request id is another order.
            let (other, _) = try await client.order("r1", user: "u2")
            #expect(other == .created)
            #expect(try await client.stock() == (3, 0, 2))
            #expect(app.payments.totals.succeeded == 2)
        }
    }

    @Test func badOrdersAreRefusedNamingTheField() async throws {
        try await OrdersTestApp.run { _, client in
            var (status, body) = try await client.order("r1", quantity: 0)
            #expect(status == .badRequest && body["field"] as? String == "items[0].quantity")
            (status, body) = try await client.call(
                .post,
                "/api/v1/orders",
                #"{"request_id":"r1","user_id":"u1","items":[{"sku":"A","quantity":1}],"payment":{"amount_minor":5,"currency":"yuan","method":"card"}}"#
            )
            #expect(status == .badRequest && body["field"] as? String == "payment.currency")
            (status, body) = try await client.call(.post, "/api/v1/orders", #"{"request_id":"r1"}"#)
            #expect(status == .badRequest)
            (status, body) = try await client.call(.get, "/api/v1/orders")
            #expect(status == .badRequest && body["field"] as? String == "user_id")
            (status, body) = try await client.call(.get, "/api/v1/orders/ord_missing")
            #expect(status == .notFound && body["code"] as? String == "order_not_found")
        }
    }

    @Test func aRunningOrderCanBeCancelledAndGivesBackUnitsAndMoney() async throws {
        try await OrdersTestApp.run { app, client in
            app.payments.faults = PaymentSimulator.Faults(latencyMilliseconds: 300)
            try await client.call(.put, "/api/v1/inventory/HOT", #"{"stock":5,"rate_window_ms":0}"#)
            let (status, body) = try await client.order("r1", quantity: 2, query: "?wait=false")
            #expect(status == .accepted)
            let id = try #require(body["order_id"] as? String)
            try await Task.sleep(for: .milliseconds(100))
            let (cancelled, order) = try await client.call(.post, "/api/v1/orders/\(id)/cancel")
            #expect(cancelled == .ok)
            #expect(order["status"] as? String == "cancelled" && order["reason"] as? String == "cancelled_by_user")
            #expect(try await client.stock() == (5, 0, 0))
            let totals = app.payments.totals
            #expect(totals.succeeded == totals.refunded)
            let (again, final) = try await client.call(.post, "/api/v1/orders/\(id)/cancel")
            #expect(again == .ok && final["status"] as? String == "cancelled")
        }
    }

    @Test func ordersAreListedByUserNewestFirstByPage() async throws {
        try await OrdersTestApp.run { _, client in
            try await client.call(.put, "/api/v1/inventory/HOT", #"{"stock":50,"rate_window_ms":0}"#)
            for index in 0..<3 { try await client.order("r\(index)") }
            var (status, page) = try await client.call(.get, "/api/v1/orders?user_id=u1&limit=2")
            #expect(status == .ok)
            let first = (page["orders"] as? [[String: Any]] ?? []).compactMap { $0["request_id"] as? String }
            #expect(first == ["r2", "r1"])
            let cursor = try #require(page["next_cursor"] as? String)
            (status, page) = try await client.call(.get, "/api/v1/orders?user_id=u1&limit=2&after=\(cursor)")
            #expect((page["orders"] as? [[String: Any]] ?? []).compactMap { $0["request_id"] as? String } == ["r0"])
            #expect(page["next_cursor"] is NSNull)
            (status, _) = try await client.call(.get, "/api/v1/orders?user_id=u1&limit=500")
            #expect(status == .badRequest)
        }
    }
}
