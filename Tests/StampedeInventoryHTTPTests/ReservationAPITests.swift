import Foundation
import HTTPTypes
import HummingbirdTesting
import StampedeTesting
import Testing

@Suite("Reservation HTTP API")
struct ReservationAPITests {
    func reserve(
        _ client: any TestClientProtocol,
        order: String,
        user: String = "u1",
        amount: Int = 1,
        holdMilliseconds: Int = 5_000
    ) async throws -> (HTTPResponse.Status, [String: Any]) {
        try await client.json(
            .post,
            "/api/v1/inventory/reserve",
            #"{"sku":"HOT","user_id":"\#(user)","order_id":"\#(order)","amount":\#(amount),"hold_ms":\#(holdMilliseconds)}"#
        )
    }

    @Test func reserveConfirmAndExpireAnswerWithTheirCodes() async throws {
        try await TestApp.run { app, client in
            try await client.putItem("HOT", #"{"stock":5,"rate_window_ms":0}"#)
            var (status, body) = try await reserve(client, order: "r1", amount: 2)
            #expect(status == .ok)
            #expect(body["success"] as? Bool == true)
            #expect(body["new_stock"] as? Int == 3)
            #expect(body["hold_expires_at_ms"] as? Int == Int(app.clock.now) + 5_000)
            (status, body) = try await client.json(.get, "/api/v1/inventory/HOT")
            #expect(body["stock"] as? Int == 3 && body["reserved"] as? Int == 2 && body["sold"] as? Int == 0)
            (status, body) = try await client.json(.get, "/api/v1/inventory/log/r1")
            #expect(body["status"] as? String == "held")

            (status, body) = try await client.json(.post, "/api/v1/inventory/confirm", #"{"order_id":"r1"}"#)
            #expect(status == .ok)
            #expect(body["success"] as? Bool == true && body["result"] as? String == "confirmed")
            (status, body) = try await client.json(.post, "/api/v1/inventory/confirm", #"{"order_id":"r1"}"#)
            #expect(status == .ok && body["result"] as? String == "already_confirmed")

            (status, body) = try await reserve(client, order: "r2", user: "u2", amount: 3, holdMilliseconds: 1_000)
            #expect(status == .ok)
            app.clock.advance(milliseconds: 1_000)
            (status, body) = try await client.json(.post, "/api/v1/inventory/confirm", #"{"order_id":"r2"}"#)
            #expect(status == .conflict)
            #expect(body["code"] as? String == "hold_expired")
            (status, body) = try await client.json(.get, "/api/v1/inventory/HOT")
            #expect(body["stock"] as? Int == 3 && body["reserved"] as? Int == 0 && body["sold"] as? Int == 2)

            (status, body) = try await reserve(client, order: "r3", user: "u3", amount: 4)
            #expect(status == .conflict && body["code"] as? String == "insufficient_stock")
            (status, body) = try await client.json(.post, "/api/v1/inventory/confirm", #"{"order_id":"nope"}"#)
            #expect(status == .notFound && body["code"] as? String == "order_not_found")
        }
    }

    @Test func badReservationsAreRefusedNamingTheFieldAndChangeNothing() async throws {
        try await TestApp.run { _, client in
            try await client.putItem("HOT", #"{"stock":5,"rate_window_ms":0}"#)
            var (status, body) = try await reserve(client, order: "r1", holdMilliseconds: 10)
            #expect(status == .badRequest && body["field"] as? String == "hold_ms")
            (status, body) = try await client.json(
                .post,
                "/api/v1/inventory/reserve",
                #"{"sku":"HOT","user_id":"u1","order_id":"r1","amount":1}"#
            )
            #expect(status == .badRequest)
            (status, body) = try await client.json(.post, "/api/v1/inventory/confirm", #"{"order_id":""}"#)
            #expect(status == .badRequest && body["field"] as? String == "order_id")
            (status, body) = try await client.json(.get, "/api/v1/inventory/HOT")
            #expect(body["stock"] as? Int == 5 && body["reserved"] as? Int == 0)
        }
    }
}
