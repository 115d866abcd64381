/// The business outcome of a deduct, ordered by the precedence in which the engine checks them.
///
/// These are results, not errors: a sold-out item is a normal answer. Operating failures (storage down) are
/// thrown as ``InventoryStoreError`` instead.
public enum DeductCode: UInt8, Sendable, Hashable, CaseIterable {
    case success = 0
    /// The order id was used before with a different payload.
    case orderConflict = 1
    /// The SKU does not exist.
    case stockNotFound = 2
    /// The user already made a request for this SKU inside the item's rate window.
    case rateLimited = 3
    /// The user would exceed the item's per-user cap.
    case userLimitExceeded = 4
    /// Not enough stock left.
    case insufficientStock = 5
    /// The engine holds as many order records as it may.
    case capacityExhausted = 6
    /// A release of this order id came first (a saga's compensation overtook its reservation): the id is closed.
    case orderCancelled = 7

    /// The stable wire name.
    public var name: String {
        switch self {
        case .success: "success"
        case .stockNotFound: "stock_not_found"
        case .orderConflict: "order_conflict"
        case .rateLimited: "rate_limited"
        case .userLimitExceeded: "user_limit_exceeded"
        case .insufficientStock: "insufficient_stock"
        case .capacityExhausted: "capacity_exhausted"
        case .orderCancelled: "order_cancelled"
        }
    }

    /// Whether the same request may succeed if sent again later.
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .capacityExhausted: true
        case .success, .stockNotFound, .orderConflict, .userLimitExceeded, .insufficientStock, .orderCancelled: false
        }
    }
}

/// The business outcome of a release.
public enum ReleaseCode: UInt8, Sendable, Hashable, CaseIterable {
    case released = 0
    /// The order's units were returned before; nothing changed.
    case alreadyReleased = 1
    /// No such order.
    case orderNotFound = 2
    /// The item was reset (PUT) after the order; its units belong to a stock that no longer exists.
    case orderSuperseded = 3

    public var name: String {
        switch self {
        case .released: "released"
        case .alreadyReleased: "already_released"
        case .orderNotFound: "order_not_found"
        case .orderSuperseded: "order_superseded"
        }
    }
}

/// The business outcome of confirming a reservation.
public enum ConfirmCode: UInt8, Sendable, Hashable, CaseIterable {
    /// The hold became a sale.
    case confirmed = 0
    /// An earlier confirm made it a sale; nothing changed.
    case alreadyConfirmed = 1
    /// No such order.
    case orderNotFound = 2
    /// The hold's deadline passed first: its units went back to stock and cannot be sold under this order.
    case holdExpired = 3
    /// The hold was released first.
    case orderReleased = 4
    /// The order is a plain deduct: its sale was final at once.
    case notAReservation = 5
    /// The item was reset (PUT) after the reservation; its units belong to a stock that no longer exists.
    case orderSuperseded = 6

    public var name: String {
        switch self {
        case .confirmed: "confirmed"
        case .alreadyConfirmed: "already_confirmed"
        case .orderNotFound: "order_not_found"
        case .holdExpired: "hold_expired"
        case .orderReleased: "order_released"
        case .notAReservation: "not_a_reservation"
        case .orderSuperseded: "order_superseded"
        }
    }
}
