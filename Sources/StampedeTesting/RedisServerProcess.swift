import Foundation
import Synchronization

/// A real `redis-server` on a free loopback port with its own data directory, for integration tests.
///
/// The binary is `STAMPEDE_TEST_REDIS_SERVER`, else `redis-server` on the PATH (`.ci/run` installs it).
/// Persistence is AOF with `appendfsync always`, so a SIGKILL loses nothing Redis acknowledged.
public final class RedisServerProcess: Sendable {
    public let port: Int
    public let directory: TemporaryDirectory
    private let process: Mutex<Process>
    private let output: OutputBuffer

    public var url: String { "redis://127.0.0.1:\(port)/0" }

    /// Starts a server and waits until it answers.
    public static func start() async throws -> RedisServerProcess {
        let directory = TemporaryDirectory(prefix: "stampede-redis")
        var lastError: (any Error)?
        for _ in 0..<5 {
            let port = try freePort()
            let output = OutputBuffer()
            do {
                let process = try launch(port: port, directory: directory.path, output: output)
                try await waitUntilReady(port: port, process: process, output: output)
                return RedisServerProcess(port: port, directory: directory, process: process, output: output)
            } catch {
                lastError = error
            }
        }
        directory.remove()
        throw lastError ?? TestSupportError("redis-server did not start")
    }

    private init(port: Int, directory: TemporaryDirectory, process: Process, output: OutputBuffer) {
        self.port = port
        self.directory = directory
        self.process = Mutex(process)
        self.output = output
    }

    /// A test that fails midway drops its server without stopping it: kill it and remove its data so neither
    /// outlives the test run.
    deinit {
        let process = self.process.withLock { $0 }
        if process.isRunning { Glibc.kill(process.processIdentifier, SIGKILL) }
        directory.remove()
    }

    public var log: String { output.text.withLock { $0 } }

    /// Kills the server with SIGKILL (no shutdown save) and waits for it to exit.
    public func kill() async throws {
        let process = self.process.withLock { $0 }
        Glibc.kill(process.processIdentifier, SIGKILL)
        while process.isRunning { try await Task.sleep(for: .milliseconds(10)) }
    }

    /// Starts the server again on the same port and data directory (it reloads its AOF).
    public func restart() async throws {
        let process = try Self.launch(port: port, directory: directory.path, output: output)
        self.process.withLock { $0 = process }
        try await Self.waitUntilReady(port: port, process: process, output: output)
    }

    /// Stops the server and removes its data.
    public func stop() async {
        try? await kill()
        directory.remove()
    }

    private static func launch(port: Int, directory: String, output: OutputBuffer) throws -> Process {
        let process = Process()
        let binary = ProcessInfo.processInfo.environment["STAMPEDE_TEST_REDIS_SERVER"] ?? "redis-server"
        if binary.contains("/") {
            process.executableURL = URL(fileURLWithPath: binary)
            process.arguments = []
        } else {
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = [binary]
        }
        process.arguments! += [
            "--port", "\(port)", "--bind", "127.0.0.1", "--dir", directory, "--save", "",
            "--appendonly", "yes", "--appendfsync", "always", "--daemonize", "no", "--loglevel", "warning",
            "--enable-debug-command", "local",
        ]
        output.capture(process)
        try process.run()
        return process
    }

    private static func waitUntilReady(port: Int, process: Process, output: OutputBuffer) async throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            guard process.isRunning else {
                throw TestSupportError("redis-server exited: \(output.text.withLock { $0 })")
            }
            if let pid = processID(port: port) {
                // Another test's server may hold the port (ours then fails to bind and exits): never use it.
                guard pid == Int(process.processIdentifier) else {
                    // Not SIGTERM: children inherit the test runner's signal mask, which blocks it.
                    Glibc.kill(process.processIdentifier, SIGKILL)
                    throw TestSupportError("port \(port) is taken by another redis-server (pid \(pid))")
                }
                return
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Not SIGTERM: children inherit the test runner's signal mask, which blocks it.
        Glibc.kill(process.processIdentifier, SIGKILL)
        throw TestSupportError("redis-server did not answer on port \(port)")
    }

    /// The `process_id` of the server answering `INFO` on `port` once it has loaded its data, over a plain
    /// blocking socket; nil while nothing answers or it is still loading its AOF.
    private static func processID(port: Int) -> Int? {
        guard let fd = LoopbackSocket.connect(port: port) else { return nil }
        defer { close(fd) }
        let request = Array("INFO server persistence\r\n".utf8)
        guard write(fd, request, request.count) == request.count else { return nil }
        var reply: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        // The reply is one bulk string of a few KiB; read until the lines that matter have arrived.
        while reply.count < 65536 {
            let count = read(fd, &chunk, chunk.count)
            guard count > 0 else { return nil }
            reply += chunk[0..<count]
            let text = String(decoding: reply, as: UTF8.self)
            guard let loading = text.range(of: "loading:"), text[loading.upperBound...].contains("\r\n") else {
                continue
            }
            guard text[loading.upperBound...].hasPrefix("0") else { return nil }
            if let range = text.range(of: "process_id:"), let end = text[range.upperBound...].firstIndex(of: "\r\n") {
                return Int(text[range.upperBound..<end])
            }
            return nil
        }
        return nil
    }

    /// A port that was free a moment ago (bound to port 0, read back, closed).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestSupportError("socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard bound == 0 else { throw TestSupportError("bind() failed") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        guard named == 0 else { throw TestSupportError("getsockname() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
