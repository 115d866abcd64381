import ArgumentParser

/// The Redis client's pool options, shared by `serve`, `worker` and `reconcile`.
struct RedisConnectionOptions: ParsableArguments {
    @Option(help: "Pooled, pipelined Redis connections. Env: STAMPEDE_REDIS_CONNECTIONS. Default: 4.")
    var redisConnections: Int?

    @Option(help: "Redis connect and reply timeout in ms. Env: STAMPEDE_REDIS_TIMEOUT_MS. Default: 1000.")
    var redisTimeoutMs: Int?
}
