// What TailKeepingTracer costs per request on the path 99% of requests take (head sampling did not choose the
// trace, it neither failed nor was slow), on one thread, in nanoseconds: the deduct's shape — a server span, an
// `inventory.deduct` child, deferred attributes on both, the `traceparent` asked for once — and two smaller ones.
//
// Usage: swift run -c release TraceCost [root|spans|request] [requests]
import CoreMetrics
import Foundation
import InMemoryTracing
import ServiceContextModule
import StampedeTelemetry
import Tracing

struct RequestAttributes: DeferredSpanAttributes {
    let sku: String
    let user: String
    let order: String
    let amount: Int

    func spanAttributes() -> SpanAttributes {
        var attributes = SpanAttributes()
        attributes["inventory.sku"] = sku
        attributes["user.id"] = user
        attributes["order.id"] = order
        attributes["inventory.amount"] = amount
        return attributes
    }

    var estimatedBytes: Int {
        Self.estimate(attributes: 4, stringBytes: sku.utf8.count + user.utf8.count + order.utf8.count)
    }
}

struct TraceParentInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout String?) {
        if key == "traceparent" { carrier = value }
    }
}

let arguments = CommandLine.arguments.dropFirst()
let mode = arguments.first ?? "request"
let requests = arguments.dropFirst().first.flatMap { Int($0) } ?? 2_000_000
guard ["root", "spans", "request"].contains(mode), requests > 0 else {
    print("usage: TraceCost [root|spans|request] [requests]")
    exit(2)
}
let tracer = TailKeepingTracer(
    inner: InMemoryTracer(),
    configuration: TailSamplingConfiguration(headRatio: 0, slowThresholdNanoseconds: .max),
    metricsFactory: NOOPMetricsHandler.instance
)
var propagated = 0
let elapsed = ContinuousClock().measure {
    for index in 0..<requests {
        let root = tracer.startSpan("/api/v1/inventory/deduct", context: .topLevel, ofKind: .server)
        if mode == "root" {
            root.end()
            continue
        }
        let child = tracer.startSpan("inventory.deduct", context: root.context, ofKind: .internal)
        if mode == "request" {
            var traceParent: String?
            tracer.inject(child.context, into: &traceParent, using: TraceParentInjector())
            propagated &+= traceParent?.utf8.count ?? 0
            let attributes = RequestAttributes(
                sku: "HOT",
                user: "user-1234567",
                order: "order-1733-\(index)",
                amount: 1
            )
            child.setAttributes(attributes)
            root.setAttributes(attributes)
        }
        child.end()
        root.end()
    }
}
let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
print("\(mode): \(String(format: "%.0f", nanoseconds / Double(requests))) ns per request (\(requests) requests)")
precondition(mode != "request" || propagated == 55 * requests, "every request propagated a traceparent")
