import ArgumentParser
import StampedeApp
import StampedeConfiguration

/// The Redis client's pool options, shared by `serve`, `worker` and `reconcile`.
struct RedisConnectionOptions: ParsableArguments {
    @Option(
        name: .customLong(ServeConfiguration.Settings.redisConnections.flag),
        help: ArgumentHelp(ServeConfiguration.Settings.redisConnections.help)
    )
    var redisConnections: Int?

    @Option(
        name: .customLong(ServeConfiguration.Settings.redisTimeoutMilliseconds.flag),
        help: ArgumentHelp(ServeConfiguration.Settings.redisTimeoutMilliseconds.help)
    )
    var redisTimeoutMs: Int?
}
