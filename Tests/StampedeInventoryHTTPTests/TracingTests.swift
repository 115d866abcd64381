import InMemoryTracing
import StampedeApp
import StampedeHTTPKit
import Testing
import Tracing

@Suite("Spans of the inventory API")
struct TracingTests {
    @Test func deductSpanCarriesTheSeedsAttributes() async throws {
        try await TestApp.run { app, client in
            try await client.putItem("HOT", #"{"stock":5,"rate_window_ms":0}"#)
            try await client.deduct(user: "alice", order: "order-1", amount: 2)
            try await client.deduct(user: "bob", order: "order-2", amount: 9)
            let spans = app.tracer.finishedSpans.filter { $0.operationName == "inventory.deduct" }
            #expect(spans.count == 2)
            let first = try #require(spans.first { $0.attributes["order.id"]?.toSpanAttribute() == "order-1" })
            #expect(first.attributes["inventory.sku"]?.toSpanAttribute() == "HOT")
            #expect(first.attributes["user.id"]?.toSpanAttribute() == "alice")
            #expect(first.attributes["inventory.amount"]?.toSpanAttribute() == 2)
            #expect(first.attributes["inventory.result"]?.toSpanAttribute() == "success")
            #expect(first.attributes["inventory.new_stock"]?.toSpanAttribute() == 3)
            let second = try #require(spans.first { $0.attributes["order.id"]?.toSpanAttribute() == "order-2" })
            #expect(second.attributes["inventory.result"]?.toSpanAttribute() == "insufficient_stock")
        }
    }
}
