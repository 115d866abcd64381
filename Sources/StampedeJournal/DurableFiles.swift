#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Helpers that make changes to files reach the disk.
public enum DurableFiles {
    /// Makes the directory's entries (files created, renamed or removed in it) durable.
    public static func syncDirectory(atPath path: String) throws(SystemCallError) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemCallError(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        guard fsync(fd) == 0 else { throw SystemCallError(call: "fsync", path: path, errno: errno) }
    }

    /// Writes `bytes` as the whole content of the file at `path` (created or truncated), then fsyncs it.
    public static func writeFile(atPath path: String, bytes: [UInt8]) throws(SystemCallError) {
        let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw SystemCallError(call: "open", path: path, errno: errno) }
        defer { close(fd) }
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { write(fd, $0.baseAddress! + written, $0.count - written) }
            if result < 0 {
                if errno == EINTR { continue }
                throw SystemCallError(call: "write", path: path, errno: errno)
            }
            written += result
        }
        guard fsync(fd) == 0 else { throw SystemCallError(call: "fsync", path: path, errno: errno) }
    }
}
