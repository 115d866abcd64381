import NIOCore

/// One entry of a Redis stream: its id and its fields in order.
public struct RedisStreamEntry: Sendable, Hashable {
    public var id: String
    public var fields: [String: ByteBuffer]

    public init(id: String, fields: [String: ByteBuffer]) {
        self.id = id
        self.fields = fields
    }

    /// Reads `[id, [field, value, …]]`.
    static func parse(_ value: RESPValue) throws(RedisError) -> RedisStreamEntry {
        guard let parts = value.elements, parts.count == 2, let id = parts[0].string else {
            throw RedisError(.unexpectedReply, "stream entry: \(value)")
        }
        var fields: [String: ByteBuffer] = [:]
        // A trimmed entry still listed in a pending list comes back with null fields.
        if let flat = parts[1].elements {
            guard flat.count % 2 == 0 else { throw RedisError(.unexpectedReply, "stream entry fields: \(value)") }
            for index in stride(from: 0, to: flat.count, by: 2) {
                guard let name = flat[index].string, case .bulkString(let bytes) = flat[index + 1] else {
                    throw RedisError(.unexpectedReply, "stream entry field: \(value)")
                }
                fields[name] = bytes
            }
        }
        return RedisStreamEntry(id: id, fields: fields)
    }

    static func parseList(_ value: RESPValue) throws(RedisError) -> [RedisStreamEntry] {
        if value.isNull { return [] }
        guard let entries = value.elements else { throw RedisError(.unexpectedReply, "stream entries: \(value)") }
        var parsed: [RedisStreamEntry] = []
        parsed.reserveCapacity(entries.count)
        for entry in entries { parsed.append(try parse(entry)) }
        return parsed
    }
}

/// Something that sends commands: the pooled client, or one dedicated connection (for blocking reads).
public protocol RedisCommandSender: Sendable {
    func send(_ command: RedisCommand) async throws(RedisError) -> RESPValue
}

extension RedisClient: RedisCommandSender {}
extension RedisConnection: RedisCommandSender {}

/// Stream commands, typed: the write-behind queue builds on them.
extension RedisCommandSender {
    /// `XADD key [MAXLEN ~ n] * field value …`; returns the new entry's id.
    public func xadd(
        _ key: String,
        fields: [(String, RedisArgument)],
        approximateMaxLength: Int? = nil
    ) async throws(RedisError) -> String {
        var arguments: [RedisArgument] = [.string(key)]
        if let approximateMaxLength { arguments += ["MAXLEN", "~", .integer(Int64(approximateMaxLength))] }
        arguments.append("*")
        for (name, value) in fields { arguments += [.string(name), value] }
        let reply = try await send(RedisCommand("XADD", arguments))
        guard let id = reply.string else { throw RedisError(.unexpectedReply, "XADD: \(reply)") }
        return id
    }

    /// `XGROUP CREATE key group id MKSTREAM`; an existing group is not an error. Returns whether it was created.
    @discardableResult
    public func xgroupCreate(_ key: String, group: String, startID: String = "0") async throws(RedisError) -> Bool {
        do {
            _ = try await send(RedisCommand("XGROUP", "CREATE", key, group, startID, "MKSTREAM"))
            return true
        } catch  where error.serverMessage?.hasPrefix("BUSYGROUP") == true {
            return false
        }
    }

    /// `XREADGROUP GROUP group consumer COUNT n [BLOCK ms] STREAMS key id`; `id` is `>` for new entries or
    /// `0` for this consumer's pending ones. Blocking reads belong on a dedicated connection.
    public func xreadgroup(
        _ key: String,
        group: String,
        consumer: String,
        count: Int,
        blockMilliseconds: Int? = nil,
        id: String = ">"
    ) async throws(RedisError) -> [RedisStreamEntry] {
        var arguments: [RedisArgument] = ["GROUP", .string(group), .string(consumer), "COUNT", .integer(Int64(count))]
        if let blockMilliseconds { arguments += ["BLOCK", .integer(Int64(blockMilliseconds))] }
        arguments += ["STREAMS", .string(key), .string(id)]
        let reply = try await send(RedisCommand("XREADGROUP", arguments))
        switch reply {
        case .null:
            return []
        case .map(let pairs):
            return try pairs.first.map { pair throws(RedisError) in try RedisStreamEntry.parseList(pair.value) } ?? []
        case .array(let streams):
            guard let first = streams.first else { return [] }
            guard let parts = first.elements, parts.count == 2 else {
                throw RedisError(.unexpectedReply, "XREADGROUP: \(reply)")
            }
            return try RedisStreamEntry.parseList(parts[1])
        default:
            throw RedisError(.unexpectedReply, "XREADGROUP: \(reply)")
        }
    }

    /// `XACK key group id …`; returns how many entries were acknowledged.
    @discardableResult
    public func xack(_ key: String, group: String, ids: [String]) async throws(RedisError) -> Int {
        guard !ids.isEmpty else { return 0 }
        let reply = try await send(RedisCommand("XACK", [.string(key), .string(group)] + ids.map { .string($0) }))
        guard let count = reply.int64 else { throw RedisError(.unexpectedReply, "XACK: \(reply)") }
        return Int(count)
    }

    /// `XAUTOCLAIM key group consumer min-idle start COUNT n`: takes over entries other consumers left pending.
    /// Returns the cursor for the next call (`0-0` when the scan is complete) and the claimed entries.
    public func xautoclaim(
        _ key: String,
        group: String,
        consumer: String,
        minIdleMilliseconds: Int,
        start: String = "0-0",
        count: Int
    ) async throws(RedisError) -> (next: String, entries: [RedisStreamEntry]) {
        let reply = try await send(
            RedisCommand(
                "XAUTOCLAIM",
                [
                    .string(key), .string(group), .string(consumer), .integer(Int64(minIdleMilliseconds)),
                    .string(start), "COUNT", .integer(Int64(count)),
                ]
            )
        )
        guard let parts = reply.elements, parts.count >= 2, let next = parts[0].string else {
            throw RedisError(.unexpectedReply, "XAUTOCLAIM: \(reply)")
        }
        // Entries deleted meanwhile come back as nulls; they have nothing left to claim.
        let entries = try RedisStreamEntry.parseList(.array((parts[1].elements ?? []).filter { !$0.isNull }))
        return (next, entries)
    }

    /// `XLEN key`.
    public func xlen(_ key: String) async throws(RedisError) -> Int {
        let reply = try await send(RedisCommand("XLEN", key))
        guard let count = reply.int64 else { throw RedisError(.unexpectedReply, "XLEN: \(reply)") }
        return Int(count)
    }

    /// `XPENDING key group`: how many entries were delivered but not acknowledged, and the oldest's id.
    public func xpendingCount(_ key: String, group: String) async throws(RedisError) -> (count: Int, oldestID: String?)
    {
        let reply = try await send(RedisCommand("XPENDING", key, group))
        guard let parts = reply.elements, let count = parts.first?.int64 else {
            throw RedisError(.unexpectedReply, "XPENDING: \(reply)")
        }
        return (Int(count), parts.count > 1 ? parts[1].string : nil)
    }
}
