import Synchronization

/// A wall clock in milliseconds that tests move by hand.
public final class ManualClock: Sendable {
    private let nowMilliseconds: Atomic<Int64>

    public init(_ start: Int64 = 1_800_000_000_000) {
        self.nowMilliseconds = Atomic(start)
    }

    public var now: Int64 { nowMilliseconds.load(ordering: .relaxed) }

    public func advance(milliseconds: Int64) {
        nowMilliseconds.add(milliseconds, ordering: .relaxed)
    }

    /// The clock as the closure the store takes.
    public var closure: @Sendable () -> Int64 { { self.now } }
}
