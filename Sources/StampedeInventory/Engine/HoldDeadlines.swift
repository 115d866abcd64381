import HeapModule

/// The deadlines of live holds, earliest first, so expiry finds the due ones without scanning every order.
///
/// Entries are not removed when a hold is confirmed or released: the engine checks the order when an entry
/// comes due and skips it if the hold is no longer live. Each order adds one entry, so the heap is bounded by
/// `InventoryLimits.orderRecordsMax`.
struct HoldDeadlines: Sendable {
    private struct Entry: Comparable, Sendable {
        var deadline: Int64
        var orderID: String

        static func < (lhs: Entry, rhs: Entry) -> Bool {
            (lhs.deadline, lhs.orderID) < (rhs.deadline, rhs.orderID)
        }
    }

    private var heap = Heap<Entry>()

    var count: Int { heap.count }

    mutating func insert(orderID: String, deadline: Int64) {
        heap.insert(Entry(deadline: deadline, orderID: orderID))
    }

    /// Removes and returns the earliest order whose deadline is at or before `now`.
    mutating func popDue(now: Int64) -> String? {
        guard let first = heap.min, first.deadline <= now else { return nil }
        return heap.removeMin().orderID
    }

    /// The earliest deadline, live or not.
    var earliest: Int64? { heap.min?.deadline }
}
