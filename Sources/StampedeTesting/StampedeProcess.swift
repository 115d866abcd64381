import Foundation
import Synchronization

/// The real `stampede` binary, started as a child process, with its stderr captured.
public final class StampedeProcess: Sendable {
    public let port: Int
    private let process: Process
    private let output: OutputBuffer

    /// The built `stampede` executable: `STAMPEDE_BINARY`, or beside the test bundle.
    public static func binaryPath() throws -> String {
        if let path = ProcessInfo.processInfo.environment["STAMPEDE_BINARY"] { return path }
        var candidates: [URL] = []
        if let executable = Bundle.main.executableURL { candidates.append(executable.deletingLastPathComponent()) }
        candidates.append(Bundle.main.bundleURL)
        candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
        for directory in candidates {
            let path = directory.appendingPathComponent("stampede").path
            if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
        throw TestSupportError("stampede binary not found near \(candidates.map(\.path)); set STAMPEDE_BINARY")
    }

    /// Starts `stampede serve` (or `worker`) on a free port and waits until it logs that it is ready.
    /// `subcommand` `worker` starts the ledger worker instead (it ignores `dataDirectory`).
    public static func start(
        subcommand: String = "serve",
        dataDirectory: String,
        extraArguments: [String] = [],
        environment: [String: String] = [:],
        readyTimeoutSeconds: Double = 30
    ) async throws -> StampedeProcess {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try binaryPath())
        process.arguments =
            subcommand == "serve"
            ? ["serve", "--port", "0", "--data-dir", dataDirectory] + extraArguments
            : [subcommand, "--port", "0"] + extraArguments
        var env = ProcessInfo.processInfo.environment.filter {
            !$0.key.hasPrefix("OTEL_") && !$0.key.hasPrefix("STAMPEDE_")
        }
        env.merge(environment) { $1 }
        process.environment = env
        let output = OutputBuffer()
        output.capture(process)
        try process.run()
        let deadline = Date().addingTimeInterval(readyTimeoutSeconds)
        while Date() < deadline {
            if let port = output.text.withLock({ Self.readyPort(in: $0) }) {
                return StampedeProcess(process: process, output: output, port: port)
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        // Not SIGTERM: children inherit the test runner's signal mask, which blocks it.
        Glibc.kill(process.processIdentifier, SIGKILL)
        throw TestSupportError("stampede did not become ready: \(output.text.withLock { $0 })")
    }

    private init(process: Process, output: OutputBuffer, port: Int) {
        self.process = process
        self.output = output
        self.port = port
    }

    /// A test that fails midway drops its process without stopping it: kill it so it does not outlive the test run.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Everything the process wrote so far.
    public var log: String { output.text.withLock { $0 } }

    public var baseURL: String { "http://127.0.0.1:\(port)" }

    public var isRunning: Bool { process.isRunning }

    /// Sends `signal` (e.g. SIGKILL, SIGTERM) and waits for the exit; returns the exit status.
    @discardableResult
    public func stop(signal: Int32, timeoutSeconds: Double = 30) async throws -> Int32 {
        kill(process.processIdentifier, signal)
        let deadline = Date().addingTimeInterval(timeoutSeconds)
        while process.isRunning {
            guard Date() < deadline else {
                kill(process.processIdentifier, SIGKILL)
                throw TestSupportError("stampede did not exit within \(timeoutSeconds) s after signal \(signal)")
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    public var terminationReason: Process.TerminationReason { process.terminationReason }

    static func readyPort(in log: String) -> Int? {
        guard let range = log.range(of: "port="), log.contains("ready") else { return nil }
        let digits = log[range.upperBound...].prefix { $0.isNumber }
        return Int(digits)
    }
}

final class OutputBuffer: Sendable {
    let text = Mutex("")

    /// Appends everything `process` writes to stdout and stderr.
    func capture(_ process: Process) {
        let pipe = Pipe()
        process.standardError = pipe
        process.standardOutput = pipe
        pipe.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if data.isEmpty {
                handle.readabilityHandler = nil
                return
            }
            self.text.withLock { $0 += String(decoding: data, as: UTF8.self) }
        }
    }
}

public struct TestSupportError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
