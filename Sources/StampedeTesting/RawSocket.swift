import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A blocking loopback connection for tests that hold a connection open, trickle bytes, or speak WebSocket frames
/// by hand. Call it from a thread of its own (``RawSocket/onThread(_:)``), never from the concurrency pool the server
/// under test runs on.
public final class RawSocket: @unchecked Sendable {
    public let fd: Int32
    private var received: [UInt8] = []

    /// Connects to 127.0.0.1:`port`; a read without data fails after `receiveTimeoutSeconds`.
    public init(port: Int, receiveTimeoutSeconds: Int = 10) throws {
        guard let fd = LoopbackSocket.connect(port: port, receiveTimeoutSeconds: receiveTimeoutSeconds) else {
            throw RawHTTPError.connectFailed
        }
        self.fd = fd
    }

    deinit { close(fd) }

    /// Runs `body` on a thread of its own.
    public static func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    public func send(_ text: String) throws { try send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { throw RawHTTPError.sendFailed }
            sent += count
        }
    }

    /// Reads one HTTP answer with a Content-Length body.
    public func readAnswer() throws -> RawHTTP.Answer {
        while true {
            if let (answer, used) = RawHTTP.parse(received) {
                received.removeFirst(used)
                return answer
            }
            guard try readMore() else { throw RawHTTPError.timedOut(answers: 0) }
        }
    }

    /// Reads until the peer closes (true) or the read times out (false); what arrived meanwhile is kept.
    public func waitForClose() -> Bool {
        while true {
            do {
                guard try readMore() else { return true }
            } catch {
                return errno == ECONNRESET
            }
        }
    }

    /// The bytes read and not yet consumed, as text.
    public var pending: String { String(decoding: received, as: UTF8.self) }

    /// Reads up to `count` bytes exactly.
    public func read(exactly count: Int) throws -> [UInt8] {
        while received.count < count {
            guard try readMore() else { throw RawHTTPError.timedOut(answers: 0) }
        }
        let bytes = Array(received[..<count])
        received.removeFirst(count)
        return bytes
    }

    /// Sends a masked WebSocket text frame (a client's, RFC 6455 §5.3) of fewer than 126 bytes.
    public func sendWebSocketText(_ text: String) throws {
        let payload = Array(text.utf8)
        precondition(payload.count < 126, "a short frame")
        let mask: [UInt8] = [0x12, 0x34, 0x56, 0x78]
        var frame: [UInt8] = [0x81, 0x80 | UInt8(payload.count)] + mask
        for (index, byte) in payload.enumerated() { frame.append(byte ^ mask[index % 4]) }
        try send(frame)
    }

    /// Reads one unmasked WebSocket frame (a server's) of fewer than 126 bytes: its opcode and payload.
    public func readWebSocketFrame() throws -> (opcode: UInt8, text: String) {
        let head = try read(exactly: 2)
        let length = Int(head[1] & 0x7F)
        precondition(length < 126 && head[1] & 0x80 == 0, "a short, unmasked frame")
        let payload = try read(exactly: length)
        return (head[0] & 0x0F, String(decoding: payload, as: UTF8.self))
    }

    /// Reads what is there: false when the peer closed; throws when the read timed out or failed.
    private func readMore() throws -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        if count == 0 { return false }
        guard count > 0 else { throw RawHTTPError.timedOut(answers: 0) }
        received.append(contentsOf: buffer[..<count])
        return true
    }
}
