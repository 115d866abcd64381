import Foundation

/// Where Redis is and how the client talks to it. Every limit has a default that suits one Stampede instance.
public struct RedisConfiguration: Sendable, Hashable {
    public var host: String
    public var port: Int
    /// The logical database (`SELECT`), 0 to 15 on a default server.
    public var database: Int
    public var username: String?
    public var password: String?
    /// Connections the pool keeps open; commands are pipelined over them.
    public var connectionCount: Int
    /// Longest wait for a TCP connection and its handshake.
    public var connectTimeout: Duration
    /// Longest wait for a reply; past it the command fails and its connection is closed.
    public var commandTimeout: Duration
    /// Most commands waiting for replies on one connection; past it commands fail with `busy`.
    public var pendingCommandsMax: Int
    /// First wait before reconnecting after a failed attempt; doubles up to ``reconnectBackoffMax``.
    public var reconnectBackoffInitial: Duration
    public var reconnectBackoffMax: Duration
    /// Sent with HELLO so `CLIENT LIST` shows who is connected.
    public var clientName: String
    public var parserLimits: RESPParser.Limits

    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        database: Int = 0,
        username: String? = nil,
        password: String? = nil,
        connectionCount: Int = 4,
        connectTimeout: Duration = .seconds(1),
        commandTimeout: Duration = .seconds(1),
        pendingCommandsMax: Int = 8192,
        reconnectBackoffInitial: Duration = .milliseconds(50),
        reconnectBackoffMax: Duration = .seconds(2),
        clientName: String = "stampede",
        parserLimits: RESPParser.Limits = RESPParser.Limits()
    ) {
        self.host = host
        self.port = port
        self.database = database
        self.username = username
        self.password = password
        self.connectionCount = connectionCount
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
        self.pendingCommandsMax = pendingCommandsMax
        self.reconnectBackoffInitial = reconnectBackoffInitial
        self.reconnectBackoffMax = reconnectBackoffMax
        self.clientName = clientName
        self.parserLimits = parserLimits
    }

    /// Reads `redis://[[user]:password@]host[:port][/database]`. TLS (`rediss://`) is not supported.
    public init(url: String) throws(RedisConfigurationError) {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw RedisConfigurationError("'\(url)' is not a URL; expected redis://host:port/db")
        }
        guard scheme == "redis" else {
            throw RedisConfigurationError("scheme '\(scheme)' is not supported; use redis:// (no TLS)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw RedisConfigurationError("the URL names no host")
        }
        self.init(host: host)
        if let port = components.port {
            guard (1...65535).contains(port) else { throw RedisConfigurationError("port \(port) is out of range") }
            self.port = port
        }
        let path = components.path.trimmingCharacters(in: CharacterSet(charactersIn: "/"))
        if !path.isEmpty {
            guard let database = Int(path), database >= 0 else {
                throw RedisConfigurationError("database '\(path)' is not a non-negative number")
            }
            self.database = database
        }
        if let user = components.user, !user.isEmpty { self.username = user }
        if let password = components.password { self.password = password }
        for item in components.queryItems ?? [] {
            throw RedisConfigurationError("unknown URL parameter '\(item.name)'")
        }
    }

    /// Checks the relationships between the settings.
    public func validate() throws(RedisConfigurationError) {
        guard (1...256).contains(connectionCount) else {
            throw RedisConfigurationError("connection count must be from 1 to 256")
        }
        guard pendingCommandsMax >= 1 else { throw RedisConfigurationError("pending commands max must be positive") }
        guard connectTimeout > .zero, commandTimeout > .zero else {
            throw RedisConfigurationError("timeouts must be positive")
        }
        guard reconnectBackoffInitial > .zero, reconnectBackoffMax >= reconnectBackoffInitial else {
            throw RedisConfigurationError("reconnect backoff must be positive, its maximum at least its start")
        }
    }

    /// `host:port/db`, without credentials, for logs.
    public var displayAddress: String { "\(host):\(port)/\(database)" }
}

/// A Redis setting that cannot work; the message says which and why.
public struct RedisConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    public var reason: String
    init(_ reason: String) { self.reason = reason }
    public var description: String { "invalid Redis setting: \(reason)" }
}
