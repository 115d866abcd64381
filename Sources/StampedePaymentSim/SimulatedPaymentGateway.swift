import StampedeOrders

/// The simulator in process, as the orders' payment port.
public struct SimulatedPaymentGateway: PaymentGateway {
    public let simulator: PaymentSimulator

    public init(simulator: PaymentSimulator) { self.simulator = simulator }

    public func charge(_ charge: ChargeRequest, timeout: Duration) async -> StepResult {
        await delay()
        do {
            let made = try simulator.charge(
                idempotencyKey: charge.idempotencyKey,
                orderID: charge.orderID,
                amount: charge.payment.amount
            )
            return made.status == .succeeded ? .done(reference: made.id) : .refused(code: "declined")
        } catch {
            return Self.result(of: error)
        }
    }

    public func chargeStatus(idempotencyKey: String, timeout: Duration) async -> StepResult {
        await delay()
        do {
            guard let charge = try simulator.charge(idempotencyKey: idempotencyKey) else { return .notFound }
            return charge.status == .succeeded ? .done(reference: charge.id) : .refused(code: "declined")
        } catch {
            return Self.result(of: error)
        }
    }

    public func refund(idempotencyKey: String, chargeKey: String, amount: Money, timeout: Duration) async -> StepResult
    {
        await delay()
        do {
            return try simulator.refund(chargeKey: chargeKey) == nil ? .notFound : .done(reference: nil)
        } catch {
            return Self.result(of: error)
        }
    }

    private func delay() async {
        let latency = simulator.latencyMilliseconds
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
    }

    static func result(of fault: PaymentSimulator.Fault) -> StepResult {
        switch fault {
        case .notApplied(let reason): .notApplied(reason: reason)
        case .answerLost: .uncertain(reason: "the provider's answer was lost")
        }
    }
}
