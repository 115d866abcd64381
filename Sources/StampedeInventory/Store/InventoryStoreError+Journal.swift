import StampedeJournal

extension InventoryStoreError {
    /// The store's answer to a journal failure: the codes (and so the HTTP answers) the store always gave for it,
    /// with the journal's context and underlying error, so logs read as before.
    init(_ error: JournalError) {
        let code: Code
        switch error.code {
        case .writeFailed: code = .storageFailed
        case .busy: code = .storageBusy
        case .closed: code = .notReady
        case .readFailed, .corrupted: code = .corrupted
        case .directoryUnavailable: code = .dataDirectoryUnavailable
        default: code = .storageFailed
        }
        self.init(code, context: error.context, underlying: error.underlying)
    }
}
