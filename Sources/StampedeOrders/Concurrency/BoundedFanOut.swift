import ServiceContextModule

/// Runs work on many elements at once, within a bound: the seed's §2 fan-out done right.
///
/// At most `limit` children run at a time; the results come back in the elements' order; the first error cancels
/// the children still running and is thrown, so a caller never sees partial results without an error; each child
/// runs in the caller's service context (its trace, its baggage), so its spans join the caller's trace.
public enum BoundedFanOut {
    public static func map<Element: Sendable, Output: Sendable>(
        _ elements: [Element],
        limit: Int,
        _ body: @escaping @Sendable (Element) async throws -> Output
    ) async throws -> [Output] {
        precondition(limit >= 1, "a fan-out runs at least one child at a time")
        let context = ServiceContext.current ?? .topLevel
        return try await withThrowingTaskGroup(of: (Int, Output).self) { group in
            var outputs = [Output?](repeating: nil, count: elements.count)
            var started = 0
            func startNext() {
                let index = started
                let element = elements[index]
                started += 1
                group.addTask {
                    try await ServiceContext.withValue(context) { (index, try await body(element)) }
                }
            }
            while started < min(limit, elements.count) { startNext() }
            // An error thrown here leaves the group, which cancels and awaits the children still running.
            while let (index, output) = try await group.next() {
                outputs[index] = output
                if started < elements.count { startNext() }
            }
            return outputs.map { $0! }
        }
    }
}
