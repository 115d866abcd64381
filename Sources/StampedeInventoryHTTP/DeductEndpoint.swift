import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import StampedeHTTPKit
import StampedeInventory
import StampedeTelemetry
import Tracing

/// The deduct operation between the bytes of a request and the bytes of its answer, shared by the router's
/// route and the event-loop fast path so both give the same answers, spans and metrics.
struct DeductEndpoint: Sendable {
    static let path = "/api/v1/inventory/deduct"

    let store: any InventoryStore
    let metrics: InventoryMetrics
    let tracer: any Tracer

    /// Decodes and validates a collected body; invalid input is an ``APIError`` naming the field.
    func decode(_ buffer: ByteBuffer) throws -> DeductRequest {
        let body = try DeductBodyParser.parse(buffer) ?? JSONBody.decode(DeductBody.self, from: buffer)
        let deduct = DeductRequest(sku: body.sku, userID: body.userID, orderID: body.orderID, amount: body.amount)
        if let problem = deduct.invalidField(limits: store.limits) {
            throw APIError.invalidRequest(field: problem.field, problem.reason)
        }
        return deduct
    }

    /// Counts a request that never reached the store.
    func recordInvalid(started: Int64) {
        metrics.recordDeduct(
            result: InventoryMetrics.invalidResult,
            durationNanoseconds: InventoryClock.monotonicNanoseconds() - started
        )
    }

    /// The `inventory.deduct` span, child of the current service context's span; ``finish(_:of:span:started:)``
    /// gives it its attributes (``DeductSpanAttributes``), once, when the answer is known.
    func startSpan(_ deduct: DeductRequest) -> any Span {
        tracer.startSpan("inventory.deduct", ofKind: .internal)
    }

    /// Records the store's answer in the span (then ends it) and the metrics; maps operating failures to the
    /// ``APIError`` the client gets (503 with the store's code).
    func finish(
        _ result: Result<DeductOutcome, any Error>,
        of deduct: DeductRequest,
        span: any Span,
        started: Int64
    ) -> Result<DeductOutcome, any Error> {
        defer { span.end() }
        let recording = span.isRecording
        switch result {
        case .success(let outcome):
            if recording {
                span.setAttributes(
                    DeductSpanAttributes(
                        deduct: deduct,
                        result: outcome.code.name,
                        newStock: outcome.isSuccess ? outcome.stock : nil
                    )
                )
            }
            if outcome.isSuccess {
                // A replay answers with the stock of its time; the gauge keeps today's.
                if !outcome.replayed { metrics.recordStock(sku: deduct.sku, stock: outcome.stock) }
            }
            metrics.recordDeduct(
                result: outcome.code.name,
                durationNanoseconds: InventoryClock.monotonicNanoseconds() - started
            )
            return .success(outcome)
        case .failure(let error):
            if recording {
                span.setAttributes(
                    DeductSpanAttributes(deduct: deduct, result: InventoryMetrics.errorResult, newStock: nil)
                )
            }
            span.recordError(error)
            metrics.recordDeduct(
                result: InventoryMetrics.errorResult,
                durationNanoseconds: InventoryClock.monotonicNanoseconds() - started
            )
            return .failure(Self.clientError(error))
        }
    }

    /// Operating failures of the store become 503 answers with a stable code; anything else passes unchanged.
    static func clientError(_ error: any Error) -> any Error {
        guard let error = error as? InventoryStoreError else { return error }
        return APIError(
            .serviceUnavailable,
            code: "\(error.code)",
            message: "inventory store unavailable: \(error.code)"
        )
    }
}
