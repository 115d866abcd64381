import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// Raw HTTP/1.1 over a blocking socket: several requests written at once (pipelined), answers read back in order.
public enum RawHTTP {
    public struct Answer: Sendable {
        public var status: Int
        public var headers: [String: String]
        public var body: String
        /// Everything before the blank line, as sent.
        public var head: String
    }

    /// Runs the exchange on a thread of its own: its blocking socket calls must not hold a thread of the
    /// concurrency pool the server under test runs on.
    /// `halfClose`: shut the sending side once everything is written.
    public static func exchange(
        port: Int,
        _ requests: [String],
        halfClose: Bool = false,
        expectClose: Bool = false
    ) async throws -> [Answer] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result {
                        try blockingExchange(port: port, requests, halfClose: halfClose, expectClose: expectClose)
                    }
                )
            }.start()
        }
    }

    public static func blockingExchange(
        port: Int,
        _ requests: [String],
        halfClose: Bool,
        expectClose: Bool
    ) throws -> [Answer] {
        guard let fd = LoopbackSocket.connect(port: port, receiveTimeoutSeconds: 10) else {
            throw RawHTTPError.connectFailed
        }
        defer { close(fd) }
        let bytes = Array(requests.joined().utf8)
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
            guard count > 0 else { throw RawHTTPError.sendFailed }
            sent += count
        }
        if halfClose { shutdown(fd, Int32(SHUT_WR)) }
        var received: [UInt8] = []
        var answers: [Answer] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        var closed = false
        while answers.count < requests.count || (expectClose && !closed) {
            if let (answer, used) = parse(received) {
                answers.append(answer)
                received.removeFirst(used)
                continue
            }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count == 0 {
                closed = true
                break
            }
            guard count > 0 else { throw RawHTTPError.timedOut(answers: answers.count) }
            received.append(contentsOf: buffer[..<count])
        }
        while let (answer, used) = parse(received) {
            answers.append(answer)
            received.removeFirst(used)
        }
        if expectClose && !closed { throw RawHTTPError.notClosed }
        return answers
    }

    /// One answer with a Content-Length body from the start of `bytes`, and how many bytes it took.
    public static func parse(_ bytes: [UInt8]) -> (Answer, Int)? {
        let text = String(decoding: bytes, as: UTF8.self)
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<headEnd.lowerBound].components(separatedBy: "\r\n")
        guard let statusLine = lines.first, statusLine.hasPrefix("HTTP/1.1 ") else { return nil }
        let status = Int(statusLine.dropFirst(9).prefix(3)) ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(
                in: .whitespaces
            )
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        let headBytes = text[..<headEnd.upperBound].utf8.count
        guard bytes.count >= headBytes + length else { return nil }
        let body = String(decoding: bytes[headBytes..<(headBytes + length)], as: UTF8.self)
        let head = String(text[..<headEnd.lowerBound])
        return (Answer(status: status, headers: headers, body: body, head: head), headBytes + length)
    }

    public static func deduct(
        user: String,
        order: String,
        amount: Int = 1,
        close: Bool = false,
        extraHeaders: String = ""
    ) -> String {
        let body = #"{"sku":"HOT","user_id":"\#(user)","order_id":"\#(order)","amount":\#(amount)}"#
        return deduct(body: body, extraHeaders: (close ? "Connection: close\r\n" : "") + extraHeaders)
    }

    /// A deduct request with this body and content type, as it is written on the wire.
    public static func deduct(
        body: String,
        contentType: String = "application/json",
        extraHeaders: String = ""
    ) -> String {
        "POST /api/v1/inventory/deduct HTTP/1.1\r\nHost: test\r\nContent-Type: \(contentType)\r\n" + extraHeaders
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    /// `PUT /api/v1/inventory/HOT` with this body.
    public static func putItem(_ body: String, sku: String = "HOT") -> String {
        "PUT /api/v1/inventory/\(sku) HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
            + "Content-Length: \(body.utf8.count)\r\n\r\n\(body)"
    }

    public static let getItem = "GET /api/v1/inventory/HOT HTTP/1.1\r\nHost: test\r\n\r\n"

    /// Sends `request`'s head, runs `between` (on the client's thread), then sends its body and reads the answer.
    public static func headThenBody(
        port: Int,
        _ request: String,
        between: @escaping @Sendable () -> Void
    ) async throws -> Answer? {
        guard let split = request.range(of: "\r\n\r\n")?.upperBound else { throw RawHTTPError.sendFailed }
        return try await slowExchange(
            port: port,
            [String(request[..<split]), String(request[split...])],
            between: between,
            readAnswer: true
        )
    }

    /// Writes `pieces` one after the other on a thread of its own, running `between` (on that thread) before each
    /// piece after the first, then reads one answer, or none when `readAnswer` is false (the socket is closed after
    /// the last piece).
    public static func slowExchange(
        port: Int,
        _ pieces: [String],
        between: @escaping @Sendable () -> Void,
        readAnswer: Bool
    ) async throws -> Answer? {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(
                    with: Result {
                        guard let fd = LoopbackSocket.connect(port: port, receiveTimeoutSeconds: 10) else {
                            throw RawHTTPError.connectFailed
                        }
                        defer { close(fd) }
                        for (index, piece) in pieces.enumerated() {
                            if index > 0 { between() }
                            let bytes = Array(piece.utf8)
                            let count = bytes.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, 0) }
                            guard count == bytes.count else { throw RawHTTPError.sendFailed }
                        }
                        guard readAnswer else { return nil }
                        var received: [UInt8] = []
                        var buffer = [UInt8](repeating: 0, count: 65536)
                        while true {
                            if let (answer, _) = parse(received) { return answer }
                            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
                            guard count > 0 else { throw RawHTTPError.timedOut(answers: 0) }
                            received.append(contentsOf: buffer[..<count])
                        }
                    }
                )
            }.start()
        }
    }
}

public enum RawHTTPError: Error {
    case connectFailed
    case sendFailed
    case timedOut(answers: Int)
    case notClosed
}
