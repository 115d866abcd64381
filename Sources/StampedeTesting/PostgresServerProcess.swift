import Foundation

/// A real PostgreSQL server in its own cluster (initdb in a temp dir) on a free loopback port, for tests.
///
/// Binaries come from `STAMPEDE_TEST_POSTGRES_BIN`, else the newest `/usr/lib/postgresql/*/bin` (Debian's
/// `postgresql` package, which `.ci/run` installs). PostgreSQL refuses to run as root, so as root the server
/// runs as the `postgres` user (created by that package). The database `stampede` is owned by user `stampede`,
/// with trust authentication on loopback.
public final class PostgresServerProcess: Sendable {
    public let port: Int
    public let directory: TemporaryDirectory
    private let binDirectory: String

    public var url: String { "postgres://stampede@127.0.0.1:\(port)/stampede?sslmode=disable" }
    private var dataPath: String { directory.path + "/data" }

    /// Creates the cluster and the database, and starts the server.
    public static func start() async throws -> PostgresServerProcess {
        let binDirectory = try findBinaries()
        let directory = TemporaryDirectory(prefix: "stampede-postgres")
        do {
            try run("/bin/chmod", ["755", directory.path])
            if getuid() == 0 { try run("/bin/chown", ["postgres", directory.path]) }
            try runAsServerUser(
                binDirectory + "/initdb",
                ["-D", directory.path + "/data", "-U", "stampede", "--auth=trust", "--no-sync", "-E", "UTF8"]
            )
        } catch {
            directory.remove()
            throw error
        }
        // From here on the server's deinit stops it and removes the cluster if start-up fails.
        let server = PostgresServerProcess(
            port: try RedisServerProcess.freePort(),
            directory: directory,
            bin: binDirectory
        )
        try await server.startServer()
        try server.psql("CREATE DATABASE stampede", database: "postgres")
        return server
    }

    private init(port: Int, directory: TemporaryDirectory, bin: String) {
        self.port = port
        self.directory = directory
        self.binDirectory = bin
    }

    /// A test that fails midway drops its server without destroying it: an immediate shutdown (SIGQUIT to the
    /// postmaster) and its cluster removed, so neither outlives the test run. After ``destroy()`` nothing is left.
    deinit {
        if let text = try? String(contentsOfFile: dataPath + "/postmaster.pid", encoding: .utf8),
            let pid = text.split(separator: "\n").first.flatMap({ Int32($0) }), pid > 0
        {
            kill(pid, SIGQUIT)
        }
        directory.remove()
    }

    /// Starts the stopped server again on the same port and data.
    public func startServer() async throws {
        try Self.runAsServerUser(
            binDirectory + "/pg_ctl",
            [
                "start", "-D", dataPath, "-w", "-t", "30", "-l", directory.path + "/server.log", "-o",
                "-p \(port) -k \(directory.path) -c listen_addresses=127.0.0.1 -c max_connections=50",
            ]
        )
    }

    /// Stops the server (fast shutdown: open transactions roll back, connections drop).
    public func stopServer() async throws {
        try Self.runAsServerUser(binDirectory + "/pg_ctl", ["stop", "-D", dataPath, "-m", "fast", "-w", "-t", "30"])
    }

    /// Stops the server and removes the cluster.
    public func destroy() async {
        try? await stopServer()
        directory.remove()
    }

    /// Runs SQL with psql and returns its unaligned, tuples-only output (fields separated by `|`).
    @discardableResult
    public func psql(_ sql: String, database: String = "stampede") throws -> String {
        try Self.run(
            binDirectory + "/psql",
            [
                "-h", "127.0.0.1", "-p", "\(port)", "-U", "stampede", "-d", database, "-v", "ON_ERROR_STOP=1", "-At",
                "-c", sql,
            ]
        ).trimmingCharacters(in: .whitespacesAndNewlines)
    }

    public var log: String { (try? String(contentsOfFile: directory.path + "/server.log", encoding: .utf8)) ?? "" }

    private static func findBinaries() throws -> String {
        if let configured = ProcessInfo.processInfo.environment["STAMPEDE_TEST_POSTGRES_BIN"] { return configured }
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root)) ?? []
        guard let newest = versions.compactMap(Int.init).max() else {
            throw TestSupportError(
                "no PostgreSQL under \(root): install Debian's postgresql or set STAMPEDE_TEST_POSTGRES_BIN"
            )
        }
        return "\(root)/\(newest)/bin"
    }

    private static func runAsServerUser(_ executable: String, _ arguments: [String]) throws {
        if getuid() == 0 {
            try run("/usr/sbin/runuser", ["-u", "postgres", "--", executable] + arguments)
        } else {
            try run(executable, arguments)
        }
    }

    /// Runs a command to completion with posix_spawn and waitpid (Foundation's `Process` can miss the exit of a
    /// child whose own child, the server, lives on).
    @discardableResult
    private static func run(_ executable: String, _ arguments: [String]) throws -> String {
        let outputPath = NSTemporaryDirectory() + "stampede-pg-\(UUID().uuidString).out"
        defer { try? FileManager.default.removeItem(atPath: outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let argv = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard spawned == 0 else { throw TestSupportError("cannot start \(executable): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            guard errno == EINTR else { throw TestSupportError("waitpid failed: errno \(errno)") }
        }
        let text = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        let exitedCleanly = (status & 0x7f) == 0 && ((status >> 8) & 0xff) == 0
        guard exitedCleanly else {
            throw TestSupportError("\(executable) \(arguments.joined(separator: " ")) failed (\(status)): \(text)")
        }
        return text
    }
}
