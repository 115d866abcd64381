import NIOCore
import Testing

@testable import StampedeRedis

@Suite("RESP parser: every type, split frames, malformed input")
struct RESPParserTests {
    let parser = RESPParser()

    func parseAll(_ text: String) throws -> [RESPValue] {
        var buffer = ByteBuffer(string: text)
        var values: [RESPValue] = []
        while let value = try parser.parse(&buffer) { values.append(value) }
        #expect(buffer.readableBytes == 0, "everything consumed")
        return values
    }

    @Test func readsEveryRESP3Type() throws {
        let values = try parseAll(
            "+OK\r\n-ERR bad\r\n:-42\r\n$5\r\nhello\r\n$0\r\n\r\n_\r\n#t\r\n#f\r\n,3.5\r\n,inf\r\n(123456789012345678901\r\n"
                + "!9\r\nSYNTAX no\r\n=8\r\ntxt:abcd\r\n*2\r\n:1\r\n$1\r\nx\r\n~1\r\n+a\r\n%1\r\n+k\r\n:7\r\n"
                + ">2\r\n+message\r\n+m\r\n"
        )
        #expect(
            values == [
                .simpleString("OK"), .error("ERR bad"), .integer(-42), .bulkString(ByteBuffer(string: "hello")),
                .bulkString(ByteBuffer()), .null, .boolean(true), .boolean(false), .double(3.5), .double(.infinity),
                .bigNumber("123456789012345678901"), .error("SYNTAX no"), .bulkString(ByteBuffer(string: "abcd")),
                .array([.integer(1), .bulkString(ByteBuffer(string: "x"))]), .set([.simpleString("a")]),
                .map([RESPPair(key: .simpleString("k"), value: .integer(7))]),
                .push([.simpleString("message"), .simpleString("m")]),
            ]
        )
    }

    @Test func readsRESP2NullsAsNull() throws {
        #expect(try parseAll("$-1\r\n*-1\r\n") == [.null, .null])
    }

    @Test func skipsAttributesBeforeAValue() throws {
        #expect(try parseAll("|1\r\n+key-popularity\r\n,0.5\r\n:9\r\n") == [.integer(9)])
        #expect(try parseAll("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n") == [.array([.integer(1), .integer(2)])])
    }

    @Test func aFrameSplitAtEveryByteParsesOnceComplete() throws {
        let frame = Array("*3\r\n$3\r\nfoo\r\n%1\r\n+a\r\n*1\r\n:12\r\n,1.25\r\n".utf8)
        var complete = ByteBuffer(bytes: frame)
        let whole = try #require(try parser.parse(&complete))
        for split in 1..<frame.count {
            var buffer = ByteBuffer(bytes: frame[0..<split])
            let before = buffer.readableBytes
            #expect(try parser.parse(&buffer) == nil, "incomplete at \(split)")
            #expect(buffer.readableBytes == before, "nothing consumed while incomplete")
            buffer.writeBytes(frame[split...])
            #expect(try parser.parse(&buffer) == whole)
            #expect(buffer.readableBytes == 0)
        }
    }

    @Test(arguments: [
        ("?\r\n", RESPParseError.Code.unknownType),
        (":12a\r\n", .badNumber),
        ("$abc\r\n", .badLength),
        ("$-2\r\n", .badLength),
        ("$3\r\nabcXY", .missingTerminator),
        ("#x\r\n", .badBoolean),
        ("_x\r\n", .badNull),
        ("+OK\rX", .missingTerminator),
        ("(12x\r\n", .badNumber),
    ])
    func malformedInputThrowsWithItsCode(input: String, code: RESPParseError.Code) {
        var buffer = ByteBuffer(string: input)
        #expect(throws: RESPParseError.self) { _ = try parser.parse(&buffer) }
        do {
            _ = try parser.parse(&buffer)
        } catch {
            #expect(error.code == code)
        }
    }

    @Test func limitsBoundLengthsCountsDepthAndLines() throws {
        let small = RESPParser(limits: .init(bulkBytesMax: 4, elementsMax: 3, depthMax: 2, lineBytesMax: 8))
        var bulk = ByteBuffer(string: "$5\r\n")
        #expect(throws: RESPParseError.self) { _ = try small.parse(&bulk) }
        var wide = ByteBuffer(string: "*4\r\n")
        #expect(throws: RESPParseError.self) { _ = try small.parse(&wide) }
        var deep = ByteBuffer(string: "*1\r\n*1\r\n*1\r\n:1\r\n")
        #expect(throws: RESPParseError.self) { _ = try small.parse(&deep) }
        var longLine = ByteBuffer(string: "+abcdefghijk")
        #expect(throws: RESPParseError.self) { _ = try small.parse(&longLine) }
        // A huge announced count with few bytes behind it does not allocate for the count.
        var claim = ByteBuffer(string: "*1000000\r\n:1\r\n")
        #expect(try parser.parse(&claim) == nil)
    }

    @Test func encodesCommandsAsArraysOfBulkStrings() {
        let command = RedisCommand("SET", ["key", .integer(-15), .bytes(ByteBuffer(string: "v\r\n"))])
        #expect(String(buffer: command.encoded) == "*4\r\n$3\r\nSET\r\n$3\r\nkey\r\n$3\r\n-15\r\n$3\r\nv\r\n\r\n")
        #expect(String(buffer: RedisCommand("PING").encoded) == "*1\r\n$4\r\nPING\r\n")
    }

    @Test func scriptNamesMatchRedisSHA1() {
        #expect(RedisScript("").sha1 == "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        #expect(RedisScript("return 1").sha1 == "e0e1f9fabfc9d4800c877a703b823ac0578ff8db")
        let long = String(repeating: "a", count: 1000)
        #expect(RedisScript(long).sha1 == "291e9a6c66994949b57ba5e650361e98fc36b1ba")
    }
}
