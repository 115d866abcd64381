import Foundation

/// A fresh directory under the system temp dir, removed by ``remove()``.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "stampede-test") {
        let path = NSTemporaryDirectory() + "\(prefix)-\(UUID().uuidString)"
        try! FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        self.path = path
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `body` with a new directory and removes it afterwards.
    public static func with<T>(_ body: (TemporaryDirectory) async throws -> T) async rethrows -> T {
        let directory = TemporaryDirectory()
        defer { directory.remove() }
        return try await body(directory)
    }
}
