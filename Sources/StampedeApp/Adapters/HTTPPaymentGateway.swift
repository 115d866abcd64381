import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import StampedeHTTPKit
import StampedeOrders

/// A payment provider over HTTP (the API of `stampede payment-sim`), as the orders' payment port.
///
/// Every call carries its idempotency key and the trace context (`traceparent`, `tracestate`, `baggage`), and
/// `Request-Timeout-Ms`: the time the caller still waits, so the provider need not finish work nobody awaits.
/// A 200 is the provider's answer; a 404 is "no such charge"; a 400, 402 or 422 refuses the request for good; a
/// 503, a refused connection or a failed connect is `notApplied`; a timeout, a lost connection, a 408, 409 or
/// 429, or any other 5xx is `uncertain` (the charge may have been made).
public struct HTTPPaymentGateway: PaymentGateway {
    let client: HTTPClient
    let baseURL: String

    public init(client: HTTPClient, baseURL: String) {
        self.client = client
        self.baseURL = baseURL.hasSuffix("/") ? String(baseURL.dropLast()) : baseURL
    }

    public func charge(_ charge: ChargeRequest, timeout: Duration) async -> StepResult {
        var json = JSONWriter()
        json.beginObject()
        json.field("order_id", charge.orderID)
        json.field("user_id", charge.userID)
        json.field("amount_minor", charge.payment.amount.amountMinor)
        json.field("currency", charge.payment.amount.currency)
        json.field("method", charge.payment.method)
        json.endObject()
        return await send(.POST, "/v1/charges", key: charge.idempotencyKey, body: json.string, timeout: timeout)
    }

    public func chargeStatus(idempotencyKey: String, timeout: Duration) async -> StepResult {
        await send(.GET, "/v1/charges/" + Self.pathSegment(idempotencyKey), key: nil, body: nil, timeout: timeout)
    }

    public func refund(idempotencyKey: String, chargeKey: String, amount: Money, timeout: Duration) async -> StepResult
    {
        let path = "/v1/charges/" + Self.pathSegment(chargeKey) + "/refund"
        return await send(.POST, path, key: idempotencyKey, body: "{}", timeout: timeout)
    }

    private func send(
        _ method: HTTPMethod,
        _ path: String,
        key: String?,
        body: String?,
        timeout: Duration
    ) async -> StepResult {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let key { request.headers.add(name: "Idempotency-Key", value: key) }
        let milliseconds = max(
            timeout.components.seconds * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000,
            1
        )
        request.headers.add(name: "Request-Timeout-Ms", value: "\(milliseconds)")
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        // The trace context (`traceparent`, `tracestate`, `baggage`) is written by AsyncHTTPClient itself, from
        // the client span it opens for each request under the current service context (injecting it here too
        // would send the header twice, which the provider cannot read).
        do {
            let response = try await client.execute(request, timeout: .milliseconds(milliseconds))
            let bytes = try await response.body.collect(upTo: 64 * 1024)
            let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any]
            switch response.status.code {
            case 200:
                switch json?["status"] as? String {
                case "succeeded": return .done(reference: json?["id"] as? String)
                case "refunded": return .done(reference: nil)
                case "declined": return .refused(code: "declined")
                default: return .uncertain(reason: "unexpected answer from the provider")
                }
            case 404: return .notFound
            case 503: return .notApplied(reason: "provider unavailable")
            // The request itself is refused: sending it again cannot succeed.
            case 400, 402, 422: return .refused(code: (json?["code"] as? String) ?? "provider_refused")
            // 408, 409 (the key is busy with a call still running), 429 and the rest: try again, asking first.
            case 400..<500: return .uncertain(reason: "provider answered \(response.status.code)")
            default: return .uncertain(reason: "provider answered \(response.status.code)")
            }
        } catch let error as HTTPClientError where error == .connectTimeout || error == .remoteConnectionClosed {
            return error == .connectTimeout ? .notApplied(reason: "connect timeout") : .uncertain(reason: "\(error)")
        } catch let error as HTTPClientError where error == .deadlineExceeded || error == .readTimeout {
            return .uncertain(reason: "timeout")
        } catch {
            // Connection refused and other connect failures: the request never left.
            if "\(error)".contains("connect") || "\(error)".contains("Connect") {
                return .notApplied(reason: "cannot connect to the provider")
            }
            return .uncertain(reason: "\(error)")
        }
    }

    static func pathSegment(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? text
    }
}
