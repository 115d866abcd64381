import ArgumentParser
import StampedeInventoryRedis
import StampedeRedis

/// `stampede redis-script NAME`: prints a Lua script the Redis store runs, for review, `redis-cli`, or
/// `redis-benchmark` (the benchmark runs the deduct script by `EVALSHA` to measure Redis's own ceiling).
struct RedisScriptCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "redis-script",
        abstract: "Print a Lua script of the Redis inventory store (deduct, put, release).",
        discussion: "The key layout and each script's arguments are described in docs/design.md."
    )

    @Argument(help: "The script: deduct, put or release.")
    var name: String

    @Flag(help: "Print the script's SHA-1 (its EVALSHA name) instead of its source.")
    var sha1 = false

    func validate() throws {
        guard RedisInventoryScripts.all[name] != nil else {
            throw ValidationError(
                "unknown script '\(name)'; one of: \(RedisInventoryScripts.all.keys.sorted().joined(separator: ", "))"
            )
        }
    }

    func run() throws {
        let script = RedisInventoryScripts.all[name]!
        print(sha1 ? script.sha1 : script.source)
    }
}
