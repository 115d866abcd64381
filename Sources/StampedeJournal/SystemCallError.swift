#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call, with its errno.
public struct SystemCallError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var path: String
    public var errno: Int32

    /// `errno` is the caller's to read, right after the failed call: `SystemCallError(call:path:errno: errno)`.
    public init(call: String, path: String, errno: Int32) {
        self.call = call
        self.path = path
        self.errno = errno
    }

    public var description: String {
        "\(call)(\(path)) failed: \(String(cString: strerror(errno))) (errno \(errno))"
    }
}
