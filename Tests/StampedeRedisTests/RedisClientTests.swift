import InMemoryTracing
import Logging
import MetricsTestKit
import NIOCore
import StampedeTesting
import Testing
import Tracing

@testable import StampedeRedis

/// Against a real `redis-server` started for each test.
@Suite("Redis client against a real server")
struct RedisClientTests {
    static let logger: Logger = {
        var logger = Logger(label: "redis-test")
        logger.logLevel = .critical
        return logger
    }()

    func withServer(
        connectionCount: Int = 4,
        commandTimeout: Duration = .seconds(1),
        _ body: (RedisServerProcess, RedisClient) async throws -> Void
    ) async throws {
        let server = try await RedisServerProcess.start()
        var configuration = try RedisConfiguration(url: server.url)
        configuration.connectionCount = connectionCount
        configuration.commandTimeout = commandTimeout
        let client = try RedisClient(configuration: configuration, logger: Self.logger)
        do {
            try await body(server, client)
        } catch let bodyError {
            await client.shutdown()
            await server.stop()
            throw bodyError
        }
        await client.shutdown()
        await server.stop()
    }

    @Test func speaksRESP3AndRoundTripsValues() async throws {
        try await withServer { _, client in
            try await client.send(RedisCommand("SET", "k", "v"))
            #expect(try await client.send(RedisCommand("GET", "k")).string == "v")
            #expect(try await client.send(RedisCommand("GET", "missing")) == .null)
            try await client.send(RedisCommand("HSET", "h", "a", "1"))
            // HGETALL is a map in RESP3.
            let all = try await client.send(RedisCommand("HGETALL", "h"))
            #expect(
                all
                    == .map([
                        RESPPair(key: .bulkString(ByteBuffer(string: "a")), value: .bulkString(ByteBuffer(string: "1")))
                    ])
            )
            let connection = try await client.makeDedicatedConnection()
            #expect(connection.protocolVersion == 3)
            await connection.close()
        }
    }

    @Test func errorRepliesThrowServerErrorsAndTheConnectionGoesOn() async throws {
        try await withServer { _, client in
            await #expect(throws: RedisError.self) { try await client.send(RedisCommand("NOSUCHCOMMAND")) }
            do {
                try await client.send(RedisCommand("INCR", "text-key-\(#line)", "extra"))
            } catch let error as RedisError {
                #expect(error.code == .server)
                #expect(error.serverMessage?.hasPrefix("ERR") == true)
            }
            #expect(try await client.send(RedisCommand("PING")).string == "PONG")
        }
    }

    @Test func manyConcurrentCommandsArePipelinedAndEachGetsItsOwnReply() async throws {
        try await withServer(connectionCount: 2) { _, client in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for index in 0..<2000 {
                    group.addTask {
                        let reply = try await client.send(RedisCommand("INCRBY", "counter", "\(index)"))
                        #expect(reply.int64 != nil)
                        let echo = try await client.send(RedisCommand("ECHO", "value-\(index)"))
                        #expect(echo.string == "value-\(index)")
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await client.send(RedisCommand("GET", "counter")).int64 == Int64((0..<2000).reduce(0, +)))
            let replies = try await client.pipeline([
                RedisCommand("SET", "p", "1"), RedisCommand("BADCMD"), RedisCommand("GET", "p"),
            ])
            #expect(replies.count == 3)
            #expect(replies[1].errorMessage != nil)
            #expect(replies[2].string == "1")
        }
    }

    @Test func evalSHALoadsTheScriptOnNoscriptAndAgainAfterAFlush() async throws {
        try await withServer { _, client in
            let script = RedisScript("return redis.call('INCRBY', KEYS[1], ARGV[1])")
            #expect(try await client.evalSHA(script, keys: ["n"], arguments: [.integer(5)]).int64 == 5)
            #expect(try await client.evalSHA(script, keys: ["n"], arguments: [.integer(5)]).int64 == 10)
            try await client.send(RedisCommand("SCRIPT", "FLUSH"))
            #expect(try await client.evalSHA(script, keys: ["n"], arguments: [.integer(1)]).int64 == 11)
        }
    }

    @Test func authenticatesAndSelectsTheDatabase() async throws {
        try await withServer { server, client in
            try await client.send(RedisCommand("CONFIG", "SET", "requirepass", "s3cret"))
            await client.shutdown()
            var configuration = try RedisConfiguration(url: "redis://:s3cret@127.0.0.1:\(server.port)/3")
            configuration.connectionCount = 1
            let authed = try RedisClient(configuration: configuration, logger: Self.logger)
            try await authed.send(RedisCommand("SET", "in-db-3", "yes"))
            #expect(try await authed.send(RedisCommand("CLIENT", "INFO")).string?.contains("db=3") == true)
            await authed.shutdown()
            let wrong = try RedisClient(
                configuration: RedisConfiguration(url: "redis://:nope@127.0.0.1:\(server.port)/0"),
                logger: Self.logger
            )
            do {
                try await wrong.send(RedisCommand("PING"))
                Issue.record("a wrong password must fail")
            } catch let error as RedisError {
                #expect(error.code == .handshakeFailed)
            }
            await wrong.shutdown()
        }
    }

    @Test func aSlowCommandTimesOutAndTheClientRecovers() async throws {
        try await withServer(connectionCount: 1, commandTimeout: .milliseconds(200)) { _, client in
            do {
                try await client.send(RedisCommand("DEBUG", "SLEEP", "1"))
                Issue.record("DEBUG SLEEP 1 must time out at 200 ms")
            } catch let error as RedisError {
                #expect(error.code == .timeout)
            }
            // Redis is still asleep for a moment; the client reconnects once it answers again.
            var recovered = false
            for _ in 0..<100 where !recovered {
                recovered = (try? await client.send(RedisCommand("PING")))?.string == "PONG"
                if !recovered { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(recovered)
        }
    }

    @Test func aDeadServerFailsFastAndTheClientReconnectsWhenItReturns() async throws {
        try await withServer(connectionCount: 2) { server, client in
            try await client.send(RedisCommand("SET", "before", "1"))
            try await server.kill()
            var failures = 0
            let started = ContinuousClock.now
            for _ in 0..<20 {
                do {
                    try await client.send(RedisCommand("PING"))
                } catch let error as RedisError {
                    failures += 1
                    #expect([.connectionClosed, .connectFailed, .unavailable].contains(error.code))
                }
            }
            #expect(failures == 20)
            // A hang would wait out the 1 s connect timeout on each of the 20 calls; failing fast takes far less.
            #expect(ContinuousClock.now - started < .seconds(10), "never hangs while Redis is down")
            try await server.restart()
            var recovered = false
            for _ in 0..<100 where !recovered {
                recovered = (try? await client.send(RedisCommand("GET", "before")))?.string == "1"
                if !recovered { try await Task.sleep(for: .milliseconds(50)) }
            }
            #expect(recovered, "the AOF kept the key and the client reconnected by itself")
            #expect(client.connectedCount >= 1)
        }
    }

    @Test func pubSubDeliversMessagesToSubscribers() async throws {
        try await withServer { _, client in
            let subscriber = try await RedisSubscriber.subscribe(client: client, channels: ["room:1"], bufferSize: 16)
            #expect(try await client.publish(ByteBuffer(string: "hello"), to: "room:1") == 1)
            var iterator = subscriber.messages.makeAsyncIterator()
            let message = await iterator.next()
            #expect(message?.channel == "room:1")
            #expect(message.map { String(buffer: $0.payload) } == "hello")
            await subscriber.close()
        }
    }

    @Test func streamsCommandsReadAcknowledgeAndReclaim() async throws {
        try await withServer { _, client in
            #expect(try await client.xgroupCreate("s", group: "g"))
            #expect(try await client.xgroupCreate("s", group: "g") == false)
            for index in 0..<5 {
                _ = try await client.xadd("s", fields: [("n", .integer(Int64(index)))], approximateMaxLength: 1000)
            }
            #expect(try await client.xlen("s") == 5)
            let read = try await client.xreadgroup("s", group: "g", consumer: "a", count: 3)
            #expect(read.map { $0.fields["n"].map { String(buffer: $0) } } == ["0", "1", "2"])
            #expect(try await client.xack("s", group: "g", ids: [read[0].id]) == 1)
            #expect(try await client.xpendingCount("s", group: "g").count == 2)
            let claimed = try await client.xautoclaim("s", group: "g", consumer: "b", minIdleMilliseconds: 0, count: 10)
            #expect(claimed.entries.map(\.id) == [read[1].id, read[2].id])
            let blocking = try await client.makeDedicatedConnection()
            let rest = try await blocking.xreadgroup("s", group: "g", consumer: "b", count: 10, blockMilliseconds: 100)
            #expect(rest.count == 2)
            #expect(
                try await blocking.xreadgroup("s", group: "g", consumer: "b", count: 10, blockMilliseconds: 50).isEmpty
            )
            await blocking.close()
        }
    }

    @Test func poolMetricsCountCommandsAndConnections() async throws {
        let metrics = TestMetrics()
        let server = try await RedisServerProcess.start()
        let client = try RedisClient(
            configuration: RedisConfiguration(url: server.url),
            logger: Self.logger,
            metricsFactory: metrics
        )
        try await client.send(RedisCommand("PING"))
        _ = try? await client.send(RedisCommand("BADCMD"))
        #expect(try metrics.expectCounter("redis.client.commands", [("result", "ok")]).totalValue >= 1)
        #expect(try metrics.expectCounter("redis.client.commands", [("result", "server_error")]).totalValue == 1)
        #expect(try metrics.expectGauge("redis.pool.connections").lastValue == 1)
        #expect(try metrics.expectTimer("redis.client.command.duration").values.count >= 2)
        await client.shutdown()
        await server.stop()
    }

    @Test func everyCommandGetsAClientSpanInTheCallersTrace() async throws {
        let tracer = InMemoryTracer()
        let server = try await RedisServerProcess.start()
        let client = try RedisClient(
            configuration: RedisConfiguration(url: server.url),
            logger: Self.logger,
            tracer: tracer
        )
        try await tracer.withSpan("request") { _ in
            try await client.send(RedisCommand("SET", "k", "v"))
            _ = try? await client.send(RedisCommand("BADCMD"))
        }
        let spans = tracer.finishedSpans
        let parent = try #require(spans.first { $0.operationName == "request" })
        let set = try #require(spans.first { $0.operationName == "SET" })
        #expect(set.kind == .client)
        #expect(set.traceID == parent.traceID && set.parentSpanID == parent.spanID)
        #expect(set.attributes["db.system.name"]?.toSpanAttribute() == "redis")
        #expect(set.attributes["db.operation.name"]?.toSpanAttribute() == "SET")
        #expect(set.attributes["server.port"]?.toSpanAttribute() == .int64(Int64(server.port)))
        let failed = try #require(spans.first { $0.operationName == "BADCMD" })
        #expect(failed.status?.code == .error)
        #expect(failed.attributes["error.type"]?.toSpanAttribute() == "server_error")
        await client.shutdown()
        await server.stop()
    }

    @Test(arguments: [
        ("redis://h:7000/2", "h", 7000, 2, nil as String?),
        ("redis://:pw@127.0.0.1", "127.0.0.1", 6379, 0, "pw"),
    ])
    func parsesURLs(url: String, host: String, port: Int, database: Int, password: String?) throws {
        let configuration = try RedisConfiguration(url: url)
        #expect(configuration.host == host)
        #expect(configuration.port == port)
        #expect(configuration.database == database)
        #expect(configuration.password == password)
    }

    @Test(arguments: ["rediss://h", "http://h", "redis://", "redis://h/x", "redis://h:70000"])
    func rejectsUnusableURLs(url: String) {
        #expect(throws: RedisConfigurationError.self) { try RedisConfiguration(url: url) }
    }
}
