import Foundation
import NIOCore
import Testing

@testable import StampedeInventoryHTTP

@Suite("The deduct body fast path agrees with JSONDecoder or steps aside")
struct DeductBodyParserTests {
    @Test(arguments: [
        #"{"sku":"HOT","user_id":"u1","order_id":"o1","amount":3}"#,
        #" { "amount" : -7 , "order_id":"o","user_id":"ü","sku":"A B" } "#,
        #"{"sku":"","user_id":"u","order_id":"o","amount":0}"#,
        "{\"sku\":\"x\",\n\"user_id\":\"u\",\t\"order_id\":\"o\",\"amount\":9223372036854775807}",
    ])
    func plainBodiesParseLikeJSONDecoder(_ text: String) throws {
        let fast = try #require(DeductBodyParser.parse(ByteBuffer(string: text)))
        let slow = try JSONDecoder().decode(DeductBody.self, from: Data(text.utf8))
        #expect(fast.sku == slow.sku)
        #expect(fast.userID == slow.userID)
        #expect(fast.orderID == slow.orderID)
        #expect(fast.amount == slow.amount)
    }

    @Test(arguments: [
        #"{"sku":"H\"OT","user_id":"u","order_id":"o","amount":1}"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o","amount":1.0}"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o","amount":1e2}"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o","amount":01}"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o","amount":9223372036854775808}"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o","amount":"1"}"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o"}"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o","amount":1,"extra":2}"#,
        #"{"sku":"HOT","sku":"u","order_id":"o","amount":1}"#,
        #"{"sku":null,"user_id":"u","order_id":"o","amount":1}"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o","amount":1} x"#,
        #"{"sku":"HOT","user_id":"u","order_id":"o","amount":-}"#,
        "{\"sku\":\"a\u{01}\",\"user_id\":\"u\",\"order_id\":\"o\",\"amount\":1}",
        "",
    ])
    func anythingElseStepsAside(_ text: String) {
        #expect(DeductBodyParser.parse(ByteBuffer(string: text)) == nil)
    }

    @Test func invalidUTF8StepsAside() {
        var buffer = ByteBuffer(string: #"{"sku":""#)
        buffer.writeBytes([0xFF, 0xFE])
        buffer.writeString(#"","user_id":"u","order_id":"o","amount":1}"#)
        #expect(DeductBodyParser.parse(buffer) == nil)
    }
}
