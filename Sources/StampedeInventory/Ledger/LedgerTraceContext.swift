import Instrumentation
import ServiceContextModule

/// Carries the current request's trace into a ledger entry, as a W3C `traceparent`.
public enum LedgerTraceContext {
    /// The `traceparent` of the task's current span, or nil when the task has no trace context.
    public static func currentTraceParent() -> String? {
        guard let context = ServiceContext.current else { return nil }
        var carrier: [String: String] = [:]
        InstrumentationSystem.instrument.inject(context, into: &carrier, using: DictionaryInjector())
        return carrier["traceparent"]
    }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}
