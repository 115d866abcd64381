import Foundation
import PostgresNIO

/// Where the ledger lives: `postgres://user[:password]@host[:port]/database[?sslmode=…]`.
///
/// `sslmode` means what it means to libpq: `disable`; `prefer` (default) and `require` encrypt without checking
/// the certificate (so a server's self-signed certificate works; `prefer` falls back to plain text when the server
/// has no TLS); `verify-ca` also checks the certificate chain against the system roots; `verify-full` also checks
/// that the certificate names the host.
public struct PostgresLedgerConfiguration: Sendable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// Pooled connections (the worker writes one batch at a time; reconciliation and health use the others).
    public var connectionsMax = 4
    public var connectTimeout: Duration = .seconds(5)

    public enum TLSMode: String, Sendable {
        case disable, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// Parses a `postgres://` or `postgresql://` URL; throws with the part that is wrong.
    public init(url text: String) throws(LedgerConfigurationError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme,
            scheme == "postgres" || scheme == "postgresql"
        else { throw LedgerConfigurationError("'\(Self.redacted(text))' is not a postgres:// URL") }
        guard let host = url.host, !host.isEmpty else { throw LedgerConfigurationError("the URL names no host") }
        guard let username = url.user, !username.isEmpty else {
            throw LedgerConfigurationError("the URL names no user (postgres://user@host/db)")
        }
        let database = url.path.hasPrefix("/") ? String(url.path.dropFirst()) : url.path
        guard !database.isEmpty else { throw LedgerConfigurationError("the URL names no database") }
        let port = url.port ?? 5432
        guard (1...65535).contains(port) else { throw LedgerConfigurationError("port \(port) is out of range") }
        var tls = TLSMode.prefer
        for item in url.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                switch item.value ?? "" {
                case "allow": tls = .prefer
                case let value:
                    guard let mode = TLSMode(rawValue: value) else {
                        throw LedgerConfigurationError(
                            "sslmode '\(value)' is not disable, allow, prefer, require, verify-ca or verify-full"
                        )
                    }
                    tls = mode
                }
            default:
                throw LedgerConfigurationError("unknown URL parameter '\(item.name)' (only sslmode is understood)")
            }
        }
        self.host = host
        self.port = port
        self.username = username
        self.password = url.password
        self.database = database
        self.tls = tls
    }

    /// The address without the password, for logs.
    public var displayAddress: String { "postgres://\(username)@\(host):\(port)/\(database)" }

    var clientConfiguration: PostgresClient.Configuration {
        let tlsSetting: PostgresClient.Configuration.TLS
        var verified = TLSConfiguration.makeClientConfiguration()
        var unverified = verified
        unverified.certificateVerification = .none
        switch tls {
        case .disable: tlsSetting = .disable
        case .prefer: tlsSetting = .prefer(unverified)
        case .require: tlsSetting = .require(unverified)
        case .verifyCA:
            verified.certificateVerification = .noHostnameVerification
            tlsSetting = .require(verified)
        case .verifyFull: tlsSetting = .require(verified)
        }
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: username,
            password: password,
            database: database,
            tls: tlsSetting
        )
        configuration.options.maximumConnections = connectionsMax
        configuration.options.connectTimeout = connectTimeout
        return configuration
    }

    private static func redacted(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let scheme = text.range(of: "://") else { return text }
        return String(text[..<scheme.upperBound]) + "***" + String(text[at...])
    }
}

/// A ledger setting that is wrong, with what is wrong with it.
public struct LedgerConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = "postgres: " + description }
}
