import StampedeLedger
import Testing

@Suite("PostgreSQL URL: parts and sslmode as libpq reads them")
struct PostgresLedgerConfigurationTests {
    @Test func urlPartsAndDefaults() throws {
        let configuration = try PostgresLedgerConfiguration(url: "postgres://ledger:secret@db.internal/sales")
        #expect(configuration.host == "db.internal" && configuration.port == 5432)
        #expect(configuration.username == "ledger" && configuration.password == "secret")
        #expect(configuration.database == "sales" && configuration.tls == .prefer)
        #expect(!configuration.displayAddress.contains("secret"))
    }

    @Test func everyLibpqSSLModeIsUnderstood() throws {
        let modes: [(String, PostgresLedgerConfiguration.TLSMode)] = [
            ("disable", .disable), ("allow", .prefer), ("prefer", .prefer), ("require", .require),
            ("verify-ca", .verifyCA), ("verify-full", .verifyFull),
        ]
        for (text, mode) in modes {
            #expect(try PostgresLedgerConfiguration(url: "postgres://u@h/d?sslmode=\(text)").tls == mode)
        }
    }

    @Test func badURLsNameThePartThatIsWrong() {
        let bad: [(String, String)] = [
            ("mysql://u@h/d", "not a postgres:// URL"), ("postgres://u@h/", "no database"),
            ("postgres://h/d", "no user"), ("postgres://u@h/d?sslmode=sometimes", "sslmode 'sometimes'"),
            ("postgres://u@h/d?timeout=5", "unknown URL parameter 'timeout'"),
        ]
        for (url, problem) in bad {
            do {
                _ = try PostgresLedgerConfiguration(url: url)
                Issue.record("\(url) was accepted")
            } catch {
                #expect(error.description.contains(problem), "\(url): \(error.description)")
            }
        }
    }
}
