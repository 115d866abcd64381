/// An operating failure talking to Redis. Error replies of the server are ``Code-swift.struct/server``.
///
/// `description` names the code and the command only; `debugDescription` adds the detail for logs.
public struct RedisError: Error, Sendable, CustomStringConvertible, CustomDebugStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let value: String
        private init(_ value: String) { self.value = value }
        /// The connection closed before the reply arrived: the command may or may not have run.
        public static let connectionClosed = Code("connection_closed")
        /// No connection could be made within the connect timeout, or the server refused it.
        public static let connectFailed = Code("connect_failed")
        /// No reply within the command timeout: the command may or may not have run.
        public static let timeout = Code("timeout")
        /// The pool is waiting before its next reconnect attempt; the command was not sent.
        public static let unavailable = Code("unavailable")
        /// Too many commands are waiting on the connection; the command was not sent.
        public static let busy = Code("busy")
        /// The server sent bytes that are not valid RESP; the connection was closed.
        public static let protocolError = Code("protocol_error")
        /// The server answered with an error reply (`ERR`, `NOSCRIPT`, `WRONGTYPE`…).
        public static let server = Code("server_error")
        /// HELLO, AUTH or SELECT failed while opening the connection.
        public static let handshakeFailed = Code("handshake_failed")
        /// The client was shut down.
        public static let shutdown = Code("shutdown")
        /// A reply did not have the shape the command promises.
        public static let unexpectedReply = Code("unexpected_reply")

        public var description: String { value }
    }

    public var code: Code
    /// The command or step that failed, and what is known about why.
    public var context: String
    public var underlying: (any Error)?

    public init(_ code: Code, _ context: String, underlying: (any Error)? = nil) {
        self.code = code
        self.context = context
        self.underlying = underlying
    }

    /// Whether the command certainly did not reach the server (safe to send elsewhere without a duplicate).
    public var commandWasNotSent: Bool {
        code == .unavailable || code == .busy || code == .connectFailed || code == .shutdown
    }

    /// The server's message, for ``Code-swift.struct/server``.
    public var serverMessage: String? { code == .server ? context : nil }

    public var description: String { "redis error: \(code)" }

    public var debugDescription: String {
        var text = "redis error: \(code): \(context)"
        if let underlying { text += " (\(underlying))" }
        return text
    }
}
