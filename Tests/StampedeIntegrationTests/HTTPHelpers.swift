import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// A small JSON client over AsyncHTTPClient for tests against the real binary.
struct JSONClient {
    let http: HTTPClient
    let baseURL: String

    func send(
        _ method: HTTPMethod,
        _ path: String,
        _ body: String? = nil,
        headers: [(String, String)] = [],
        timeoutSeconds: Int64 = 10
    ) async throws -> (status: Int, json: [String: Any]) {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        if let body {
            request.headers.add(name: "Content-Type", value: "application/json")
            request.body = .bytes(ByteBuffer(string: body))
        }
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        let response = try await http.execute(request, timeout: .seconds(timeoutSeconds))
        let bytes = try await response.body.collect(upTo: 1 << 20)
        let json = (try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView))) as? [String: Any] ?? [:]
        return (Int(response.status.code), json)
    }

    /// `PUT /api/v1/inventory/{sku}` with no rate window; returns the status (201 when created).
    func createItem(_ sku: String, stock: Int, limitPerUser: Int? = nil) async throws -> Int {
        let limit = limitPerUser.map { #","limit_per_user":\#($0)"# } ?? ""
        return try await send(.PUT, "/api/v1/inventory/\(sku)", #"{"stock":\#(stock),"rate_window_ms":0\#(limit)}"#)
            .status
    }

    func deduct(
        sku: String,
        user: String,
        order: String,
        amount: Int = 1
    ) async throws -> (status: Int, json: [String: Any]) {
        try await send(
            .POST,
            "/api/v1/inventory/deduct",
            #"{"sku":"\#(sku)","user_id":"\#(user)","order_id":"\#(order)","amount":\#(amount)}"#
        )
    }
}

extension HTTPClient {
    static func forTests(connections: Int = 64) -> HTTPClient {
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(30),
            concurrentHTTP1ConnectionsPerHostSoftLimit: connections
        )
        configuration.timeout = .init(connect: .seconds(5), read: .seconds(10))
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }
}

/// Runs `body` with an HTTP client that is always shut down, also when `body` throws.
func withHTTPClient<T: Sendable>(
    connections: Int = 64,
    _ body: @Sendable (HTTPClient) async throws -> T
) async throws -> T {
    let http = HTTPClient.forTests(connections: connections)
    do {
        let result = try await body(http)
        try await http.shutdown()
        return result
    } catch {
        try? await http.shutdown()
        throw error
    }
}
