/// Names the orders give their telemetry beyond spans' own.
public enum OrderTelemetry {
    /// A span event that asks the process's tail keeper to keep the trace (StampedeTelemetry's
    /// `TailKeepingTracer.keepEventName`): added where a payment is declined, so the declined order's trace is
    /// kept in every service that saw it, though a decline is a business outcome and marks no span as an error.
    public static let keepTraceEvent = "stampede.keep_trace"
}
