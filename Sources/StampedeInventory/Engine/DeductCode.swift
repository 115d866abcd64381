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
        }
    }

    /// Whether the same request may succeed if sent again later.
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .capacityExhausted: true
        case .success, .stockNotFound, .orderConflict, .userLimitExceeded, .insufficientStock: false
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
