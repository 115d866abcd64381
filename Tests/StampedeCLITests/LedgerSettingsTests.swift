import StampedeApp
import StampedeConfiguration
import Testing

@Suite("ledger settings of serve and worker: flag, then environment, then default")
struct LedgerSettingsTests {
    func resolve(
        postgresURL: String? = nil,
        runsWorker: Bool? = nil,
        batchMax: Int? = nil,
        lingerMilliseconds: Int? = nil,
        environment: [String: String] = [:]
    ) throws(ConfigurationError) -> LedgerSettings {
        try LedgerSettings(
            postgresURL: postgresURL,
            runsWorker: runsWorker,
            backlogMax: nil,
            batchMax: batchMax,
            lingerMilliseconds: lingerMilliseconds,
            workerName: nil,
            claimIdleMilliseconds: nil,
            reconcileIntervalSeconds: nil,
            environment: environment
        )
    }

    @Test func defaultsMeanNoLedgerAndAnInProcessWorkerWhenOneIsSet() throws {
        let settings = try resolve()
        #expect(settings == LedgerSettings())
        #expect(settings.postgresURL == nil && settings.runsWorker)
        #expect(settings.backlogMax == 1_000_000 && settings.batchMax == 1000 && settings.lingerMilliseconds == 50)
        #expect(settings.claimIdleMilliseconds == 30_000 && settings.reconcileIntervalSeconds == 60)
    }

    @Test func environmentOverridesDefaultsAndFlagsOverrideEnvironment() throws {
        let environment = [
            "STAMPEDE_POSTGRES_URL": "postgres://ledger@db:5432/sales", "STAMPEDE_LEDGER_WORKER": "off",
            "STAMPEDE_LEDGER_BATCH": "500", "STAMPEDE_LEDGER_LINGER_MS": "0",
        ]
        let fromEnvironment = try resolve(environment: environment)
        #expect(fromEnvironment.postgresURL == "postgres://ledger@db:5432/sales")
        #expect(!fromEnvironment.runsWorker)
        #expect(fromEnvironment.batchMax == 500 && fromEnvironment.lingerMilliseconds == 0)
        let fromFlags = try resolve(runsWorker: true, batchMax: 2000, lingerMilliseconds: 200, environment: environment)
        #expect(fromFlags.runsWorker && fromFlags.batchMax == 2000 && fromFlags.lingerMilliseconds == 200)
    }

    @Test func badValuesNameTheSetting() {
        let bad: [(() throws(ConfigurationError) -> LedgerSettings, String)] = [
            ({ () throws(ConfigurationError) in try resolve(postgresURL: "mysql://db/sales") }, "postgres"),
            ({ () throws(ConfigurationError) in try resolve(batchMax: 0) }, "ledger-batch"),
            ({ () throws(ConfigurationError) in try resolve(lingerMilliseconds: -1) }, "ledger-linger-ms"),
            ({ () throws(ConfigurationError) in try resolve(lingerMilliseconds: 10_001) }, "ledger-linger-ms"),
            (
                { () throws(ConfigurationError) in try resolve(environment: ["STAMPEDE_LEDGER_LINGER_MS": "soon"]) },
                "STAMPEDE_LEDGER_LINGER_MS"
            ),
            (
                { () throws(ConfigurationError) in try resolve(environment: ["STAMPEDE_LEDGER_WORKER": "maybe"]) },
                "STAMPEDE_LEDGER_WORKER"
            ),
        ]
        for (attempt, setting) in bad {
            do {
                _ = try attempt()
                Issue.record("\(setting): a bad value was accepted")
            } catch {
                #expect(error.setting == setting)
            }
        }
    }
}
