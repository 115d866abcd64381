import StampedeJournal
import StampedeTesting
import Testing

@testable import StampedeInventory

@Suite("Journal failures keep the store's error codes")
struct JournalErrorMappingTests {
    @Test func eachJournalCodeKeepsTheStoreCodeItAlwaysHad() {
        // The HTTP answers and the clients' retry decisions hang on these codes.
        let expected: [(JournalError.Code, InventoryStoreError.Code)] = [
            (.writeFailed, .storageFailed),
            (.busy, .storageBusy),
            (.closed, .notReady),
            (.corrupted, .corrupted),
            (.readFailed, .corrupted),
            (.directoryUnavailable, .dataDirectoryUnavailable),
        ]
        for (journalCode, storeCode) in expected {
            let cause = SystemCallError(call: "fdatasync", path: "/data/journal.log", errno: 5)
            let error = InventoryStoreError(
                JournalError(journalCode, context: "what the journal did", underlying: cause)
            )
            #expect(error.code == storeCode)
            #expect(error.context == "what the journal did")
            #expect(error.underlying is SystemCallError)
            #expect(!error.description.contains("journal.log"), "the description shown to clients leaks no path")
        }
    }

    @Test func aClosedStoreAnswersNotReady() async throws {
        try await TemporaryDirectory.with { directory in
            let configuration = EmbeddedInventoryStore.Configuration(dataDirectory: directory.path)
            let store = try EmbeddedInventoryStore(
                configuration: configuration,
                logger: RecordingLogHandler.logger(RecordingLogHandler.Records())
            )
            await store.close()
            let error = await #expect(throws: InventoryStoreError.self) {
                try await store.deduct(DeductRequest(sku: "HOT", userID: "u", orderID: "o", amount: 1))
            }
            #expect(error?.code == .notReady)
        }
    }
}
