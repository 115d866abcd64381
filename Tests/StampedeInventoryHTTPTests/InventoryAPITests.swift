import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import StampedeApp
import StampedeHTTPKit
import StampedeInventory
import StampedeTesting
import Testing

@Suite("Inventory HTTP API")
struct InventoryAPITests {
    @Test func putCreatesThenResetsAndGetShowsTheItem() async throws {
        try await TestApp.run { _, client in
            let (created, body) = try await client.putItem(
                "HOT",
                #"{"stock":10,"limit_per_user":2,"rate_window_ms":0}"#
            )
            #expect(created == .created)
            #expect(body["stock"] as? Int == 10)
            let (reset, _) = try await client.putItem("HOT", #"{"stock":20}"#)
            #expect(reset == .ok)
            let (status, item) = try await client.json(.get, "/api/v1/inventory/HOT")
            #expect(status == .ok)
            #expect(item["stock"] as? Int == 20)
            #expect(item["sold"] as? Int == 0)
            #expect(item["limit_per_user"] is NSNull)
            #expect(item["rate_window_ms"] as? Int == 1000)
            let (missing, error) = try await client.json(.get, "/api/v1/inventory/NOPE")
            #expect(missing == .notFound)
            #expect(error["code"] as? String == "stock_not_found")
        }
    }

    @Test func deductAnswersEveryBusinessOutcomeWithItsStatus() async throws {
        try await TestApp.run { app, client in
            try await client.putItem("HOT", #"{"stock":3,"limit_per_user":2,"rate_window_ms":1000}"#)
            var (status, body) = try await client.deduct(order: "o1")
            #expect(status == .ok)
            #expect(body["success"] as? Bool == true)
            #expect(body["new_stock"] as? Int == 2)
            #expect(body["message"] as? String == "success")

            (status, body) = try await client.deduct(order: "o2")
            #expect(status == .tooManyRequests)
            #expect(body["code"] as? String == "rate_limited")
            #expect(body["success"] as? Bool == false)

            app.clock.advance(milliseconds: 1000)
            (status, body) = try await client.deduct(order: "o3", amount: 2)
            #expect(status == .conflict)
            #expect(body["code"] as? String == "user_limit_exceeded")

            (status, body) = try await client.deduct(user: "u2", order: "o4", amount: 2)
            #expect(status == .ok)
            (status, body) = try await client.deduct(user: "u3", order: "o5", amount: 2)
            #expect(status == .conflict)
            #expect(body["code"] as? String == "insufficient_stock")
            #expect(body["current_stock"] as? Int == 0)

            (status, body) = try await client.deduct(sku: "NOPE", user: "u4", order: "o6")
            #expect(status == .notFound)
            #expect(body["code"] as? String == "stock_not_found")

            (status, body) = try await client.deduct(user: "u9", order: "o1")
            #expect(status == .conflict)
            #expect(body["code"] as? String == "order_conflict")
        }
    }

    @Test func repeatingAnOrderReturnsTheOriginalAnswerAndDeductsOnce() async throws {
        try await TestApp.run { _, client in
            try await client.putItem("HOT", #"{"stock":10,"rate_window_ms":0}"#)
            let (_, first) = try await client.deduct(order: "o1", amount: 3)
            try await client.deduct(user: "u2", order: "o2", amount: 1)
            let (status, replay) = try await client.deduct(order: "o1", amount: 3)
            #expect(status == .ok)
            #expect(replay["new_stock"] as? Int == first["new_stock"] as? Int)
            #expect(replay["replayed"] as? Bool == true)
            let (_, item) = try await client.json(.get, "/api/v1/inventory/HOT")
            #expect(item["sold"] as? Int == 4)
        }
    }

    @Test func logShowsTheSeedsRecordAndReleaseWorksOnce() async throws {
        try await TestApp.run { app, client in
            try await client.putItem("HOT", #"{"stock":10,"rate_window_ms":0}"#)
            try await client.deduct(order: "o1", amount: 4)
            var (status, log) = try await client.json(.get, "/api/v1/inventory/log/o1")
            #expect(status == .ok)
            #expect(log["sku"] as? String == "HOT")
            #expect(log["user_id"] as? String == "u1")
            #expect(log["amount"] as? Int == 4)
            #expect(log["old_stock"] as? Int == 10)
            #expect(log["new_stock"] as? Int == 6)
            #expect(log["timestamp"] as? Int == Int(app.clock.now / 1000))
            #expect(log["released"] as? Bool == false)

            var (releaseStatus, release) = try await client.json(
                .post,
                "/api/v1/inventory/release",
                #"{"order_id":"o1"}"#
            )
            #expect(releaseStatus == .ok)
            #expect(release["released"] as? Int == 4)
            #expect(release["new_stock"] as? Int == 10)
            (releaseStatus, release) = try await client.json(.post, "/api/v1/inventory/release", #"{"order_id":"o1"}"#)
            #expect(releaseStatus == .ok)
            #expect(release["released"] as? Int == 0)
            #expect(release["message"] as? String == "already_released")
            (status, log) = try await client.json(.get, "/api/v1/inventory/log/o1")
            #expect(log["released"] as? Bool == true)
            let (_, item) = try await client.json(.get, "/api/v1/inventory/HOT")
            #expect(item["stock"] as? Int == 10)

            (status, log) = try await client.json(.get, "/api/v1/inventory/log/missing")
            #expect(status == .notFound)
            #expect(log["code"] as? String == "order_not_found")
            (releaseStatus, release) = try await client.json(
                .post,
                "/api/v1/inventory/release",
                #"{"order_id":"missing"}"#
            )
            #expect(releaseStatus == .notFound)
            #expect(release["code"] as? String == "order_not_found")

            try await client.deduct(order: "o2")
            try await client.putItem("HOT", #"{"stock":5,"rate_window_ms":0}"#)
            (releaseStatus, release) = try await client.json(.post, "/api/v1/inventory/release", #"{"order_id":"o2"}"#)
            #expect(releaseStatus == .conflict)
            #expect(release["code"] as? String == "order_superseded")
        }
    }

    @Test func batchAnswersOneResultPerItemInOrder() async throws {
        try await TestApp.run { _, client in
            try await client.putItem("HOT", #"{"stock":3,"rate_window_ms":0}"#)
            let body = """
                {"items":[
                  {"sku":"HOT","user_id":"a","order_id":"b1","amount":2},
                  {"sku":"HOT","user_id":"b","order_id":"b2","amount":2},
                  {"sku":"HOT","user_id":"c","order_id":"b3","amount":0},
                  {"sku":"NOPE","user_id":"d","order_id":"b4","amount":1},
                  {"sku":"HOT","user_id":"a","order_id":"b1","amount":2},
                  {"sku":"HOT","user_id":"e","order_id":"b5","amount":1}
                ]}
                """
            let (status, response) = try await client.json(.post, "/api/v1/inventory/deduct/batch", body)
            #expect(status == .ok)
            let results = try #require(response["results"] as? [[String: Any]])
            #expect(results.count == 6)
            #expect(results.map { $0["status"] as? Int } == [200, 409, 400, 404, 200, 200])
            #expect(results[1]["code"] as? String == "insufficient_stock")
            #expect(results[2]["field"] as? String == "amount")
            #expect(results[4]["replayed"] as? Bool == true)
            #expect(results[5]["new_stock"] as? Int == 0)

            var (tooMany, error) = try await client.json(.post, "/api/v1/inventory/deduct/batch", #"{"items":[]}"#)
            #expect(tooMany == .badRequest)
            #expect(error["field"] as? String == "items")
            let hundredOne = (0...100).map { #"{"sku":"HOT","user_id":"u","order_id":"x\#($0)","amount":1}"# }.joined(
                separator: ","
            )
            (tooMany, error) = try await client.json(
                .post,
                "/api/v1/inventory/deduct/batch",
                #"{"items":[\#(hundredOne)]}"#
            )
            #expect(tooMany == .badRequest)
            #expect(error["field"] as? String == "items")
        }
    }

    @Test(arguments: [
        ("{not json", nil as String?),
        (#"{"sku":"HOT","user_id":"u","order_id":"o"}"#, "amount"),
        (#"{"sku":"HOT","user_id":"u","order_id":"o","amount":"1"}"#, "amount"),
        (#"{"sku":"HOT","user_id":"u","order_id":"o","amount":1.5}"#, "amount"),
        (#"{"sku":"HOT","user_id":"u","order_id":"o","amount":0}"#, "amount"),
        (#"{"sku":"HOT","user_id":"u","order_id":"o","amount":-3}"#, "amount"),
        (#"{"sku":"HOT","user_id":"u","order_id":"o","amount":99999999999999999999}"#, "amount"),
        (#"{"sku":"HOT","user_id":null,"order_id":"o","amount":1}"#, "user_id"),
        (#"{"sku":"","user_id":"u","order_id":"o","amount":1}"#, "sku"),
        (#"{"sku":"HOT","user_id":"u","order_id":"\#(String(repeating: "x", count: 129))","amount":1}"#, "order_id"),
        (#"[1,2,3]"#, nil),
    ])
    func badDeductInputIsA400NamingTheFieldAndChangesNothing(body: String, field: String?) async throws {
        try await TestApp.run { _, client in
            try await client.putItem("HOT", #"{"stock":10,"rate_window_ms":0}"#)
            let (status, error) = try await client.json(.post, "/api/v1/inventory/deduct", body)
            #expect(status == .badRequest)
            #expect(error["code"] as? String == "invalid_request")
            #expect(error["success"] as? Bool == false)
            #expect((error["message"] as? String)?.isEmpty == false)
            #expect(error["field"] as? String == field)
            let (_, item) = try await client.json(.get, "/api/v1/inventory/HOT")
            #expect(item["stock"] as? Int == 10)
        }
    }

    @Test func badItemInputIsA400NamingTheField() async throws {
        try await TestApp.run { _, client in
            for (body, field) in [
                (#"{"stock":-1}"#, "stock"), (#"{"stock":1,"limit_per_user":0}"#, "limit_per_user"),
                (#"{"stock":1,"rate_window_ms":-1}"#, "rate_window_ms"), (#"{}"#, "stock"),
                (#"{"stock":"ten"}"#, "stock"),
            ] {
                let (status, error) = try await client.putItem("HOT", body)
                #expect(status == .badRequest)
                #expect(error["field"] as? String == field)
            }
            let (status, _) = try await client.json(.get, "/api/v1/inventory/HOT")
            #expect(status == .notFound)
        }
    }

    @Test func wrongContentTypeOversizedBodyAndUnknownRoutesGetJSONErrors() async throws {
        try await TestApp.run { _, client in
            var (status, error) = try await client.json(
                .post,
                "/api/v1/inventory/deduct",
                "sku=HOT",
                contentType: "application/x-www-form-urlencoded"
            )
            #expect(status == .unsupportedMediaType)
            #expect(error["code"] as? String == "unsupported_media_type")
            let huge = #"{"sku":"\#(String(repeating: "x", count: 70_000))"}"#
            (status, error) = try await client.json(.post, "/api/v1/inventory/deduct", huge)
            #expect(status == .contentTooLarge)
            #expect(error["code"] as? String == "payload_too_large")
            (status, error) = try await client.json(.get, "/api/v1/nothing-here")
            #expect(status == .notFound)
            #expect(error["code"] as? String == "not_found")
        }
    }

    @Test func healthEndpointsReportLivenessReadinessAndDraining() async throws {
        try await TestApp.run { app, client in
            var (status, body) = try await client.json(.get, "/health/live")
            #expect(status == .ok)
            (status, body) = try await client.json(.get, "/health/ready")
            #expect(status == .ok)
            #expect(body["status"] as? String == "ready")
            app.readiness.beginDraining()
            (status, body) = try await client.json(.get, "/health/ready")
            #expect(status == .serviceUnavailable)
            #expect(body["draining"] as? Bool == true)
        }
    }

    @Test func aClosedStoreAnswers503WithACode() async throws {
        try await TestApp.run { app, client in
            try await client.putItem("HOT", #"{"stock":10,"rate_window_ms":0}"#)
            await app.store.close()
            let (status, error) = try await client.deduct(order: "o1")
            #expect(status == .serviceUnavailable)
            #expect(error["code"] as? String == "not_ready")
            let (ready, _) = try await client.json(.get, "/health/ready")
            #expect(ready == .serviceUnavailable)
        }
    }

    @Test func theLiveServerAnswersOverRealHTTP() async throws {
        let app = try TestApp()
        try await app.application.test(.live) { client in
            try await client.putItem("HOT", #"{"stock":2,"rate_window_ms":0}"#)
            var (status, body) = try await client.deduct(order: "o1")
            #expect(status == .ok)
            (status, body) = try await client.deduct(user: "u2", order: "o2", amount: 2)
            #expect(status == .conflict)
            #expect(body["code"] as? String == "insufficient_stock")
            (status, body) = try await client.json(.post, "/api/v1/inventory/deduct", "{bad")
            #expect(status == .badRequest)
            (status, _) = try await client.json(.get, "/health/live")
            #expect(status == .ok)
        }
        await app.close()
    }
}
