import Instrumentation
import ServiceContextModule

/// Carries the current request's trace into a ledger entry, as a W3C `traceparent`.
public enum LedgerTraceContext {
    /// The `traceparent` of the task's current span when its trace is sampled, else nil: only sampled traces
    /// are exported, so an unsampled context would be carried through the queue for nothing.
    public static func currentTraceParent() -> String? {
        guard let context = ServiceContext.current else { return nil }
        var traceParent: String?
        InstrumentationSystem.instrument.inject(context, into: &traceParent, using: TraceParentInjector())
        guard let traceParent, isSampled(traceParent) else { return nil }
        return traceParent
    }

    /// Whether a W3C `traceparent` (`00-<trace id>-<parent id>-<flags>`) has its sampled flag set.
    public static func isSampled(_ traceParent: String) -> Bool {
        let utf8 = traceParent.utf8
        guard utf8.count == 55, let last = utf8.last else { return false }
        // The sampled flag is the lowest bit of the flags byte, whose second hex digit ends the header.
        switch last {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return (last - UInt8(ascii: "0")) & 1 == 1
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return (last - UInt8(ascii: "a") + 10) & 1 == 1
        default: return false
        }
    }
}

/// Keeps the `traceparent` alone: asked once per deduct, so no dictionary is built for it.
private struct TraceParentInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout String?) {
        if key == "traceparent" { carrier = value }
    }
}
