import StampedeInventory
import StampedeOrders

/// The inventory store in process, as the orders' reservation port: a reservation is a deduct with a hold.
///
/// Codes the same call may clear later (`rate_limited`, `capacity_exhausted`) and failures that guarantee
/// nothing was applied are `notApplied`; a timeout or a lost connection is `uncertain` (the reservation id makes a
/// repeat harmless); every other code is the inventory's refusal.
public struct InventoryStoreReservations: InventoryReservations {
    let store: any InventoryStore

    public init(store: any InventoryStore) { self.store = store }

    public func reserve(_ hold: ReservationHold, timeout: Duration) async -> StepResult {
        let request = DeductRequest(
            sku: hold.sku,
            userID: hold.userID,
            orderID: hold.reservationID,
            amount: hold.quantity,
            holdMilliseconds: hold.holdMilliseconds
        )
        do {
            let outcome = try await store.deduct(request)
            if outcome.isSuccess { return .done(reference: nil) }
            if outcome.code.isRetryable { return .notApplied(reason: outcome.code.name) }
            return .refused(code: outcome.code.name)
        } catch {
            return Self.fault(error)
        }
    }

    public func confirm(reservationID: String, timeout: Duration) async -> StepResult {
        do {
            let outcome = try await store.confirm(orderID: reservationID)
            return outcome.isConfirmed ? .done(reference: nil) : .refused(code: outcome.code.name)
        } catch {
            return Self.fault(error)
        }
    }

    public func release(reservationID: String, timeout: Duration) async -> StepResult {
        do {
            // A release that overtook its reservation closes the id: the late reservation is refused.
            let outcome = try await store.release(orderID: reservationID, recordingIfUnknown: true)
            switch outcome.code {
            case .released, .alreadyReleased: return .done(reference: nil)
            case .orderNotFound, .orderSuperseded: return .refused(code: outcome.code.name)
            }
        } catch {
            return Self.fault(error)
        }
    }

    static func fault(_ error: any Error) -> StepResult {
        guard let error = error as? InventoryStoreError else { return .uncertain(reason: "\(error)") }
        switch error.code {
        case .storageBusy, .notReady, .ledgerBacklogFull, .dataDirectoryUnavailable:
            return .notApplied(reason: error.code.description)
        default:
            return .uncertain(reason: error.code.description)
        }
    }
}
