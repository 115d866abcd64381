import StampedeInventory
import StampedeInventoryRedis
import StampedeRedis
import Testing

private typealias Scripts = RedisInventoryScripts

/// The numbers the Lua scripts and the Swift store must agree on are written once, in Swift: each script declares
/// them as `local NAME = value` from ``DeductCode``, ``ReleaseCode`` and the reply constants, and the store decodes
/// replies with the same constants. Pure checks of the script text; the contract suite runs the scripts on Redis.
@Suite("Redis scripts: result codes and sentinels generated from Swift")
struct RedisInventoryScriptsTests {
    /// The words of a Lua source, split at spaces, line ends and `,{}()`.
    static func words(_ source: String) -> [Substring] {
        source.split(whereSeparator: { " \n,{}()".contains($0) })
    }

    /// The `local NAME = value` lines a script opens with, by name.
    static func declarations(_ script: RedisScript) -> [String: Int64] {
        var declared: [String: Int64] = [:]
        for line in script.source.split(separator: "\n") {
            let parts = line.split(separator: " ", omittingEmptySubsequences: false)
            guard parts.count == 4, parts[0] == "local", parts[2] == "=", let value = Int64(parts[3]) else { break }
            let name = String(parts[1])
            #expect(declared[name] == nil, "\(name) declared twice")
            declared[name] = value
        }
        return declared
    }

    static func isNumber(_ word: Substring) -> Bool {
        if word.count >= 2 && word.first == "'" && word.last == "'" { return Int64(word.dropFirst().dropLast()) != nil }
        return Int64(word) != nil
    }

    /// Numbers written where the Swift side decodes them: `code = 1`, `replayed = 1`, `gen = 1`, `return 1`,
    /// `return {-1, …}`, `'released', '0'`.
    static func bareNumbers(in source: String) -> [String] {
        let tokens = Self.words(source)
        var found: [String] = []
        for index in tokens.indices {
            let word = tokens[index]
            if word == "return" || word == "'released'", index + 1 < tokens.count, isNumber(tokens[index + 1]) {
                found.append("\(word) \(tokens[index + 1])")
            }
            if word == "code" || word == "replayed" || word == "gen", index + 2 < tokens.count,
                tokens[index + 1] == "=", isNumber(tokens[index + 2])
            {
                found.append("\(word) = \(tokens[index + 2])")
            }
        }
        return found
    }

    @Test(arguments: DeductCode.allCases)
    func deductScriptDeclaresEachCodeFromDeductCodeAndReturnsIt(code: DeductCode) {
        let constant = Scripts.DeductReply.constant(code)
        let source = Scripts.deduct.source
        #expect(source.contains("local \(constant.name) = \(code.rawValue)\n"))
        #expect(Self.declarations(Scripts.deduct)[constant.name] == Int64(code.rawValue))
        // Declared once and used at least once: the script can return every code.
        #expect(Self.words(source).filter { $0 == constant.name }.count >= 2, "\(constant.name) is never returned")
    }

    @Test(arguments: ["deduct", "put", "release", "repair"])
    func scriptReturnsNoBareNumberTheStoreDecodes(name: String) throws {
        let script = try #require(Scripts.all[name])
        #expect(Self.bareNumbers(in: script.source) == [])
    }

    @Test func decodingEachCodeTheDeductScriptDeclaresYieldsThatDeductCode() {
        let declared = Self.declarations(Scripts.deduct)
        for code in DeductCode.allCases {
            let constant = Scripts.DeductReply.constant(code)
            let value = declared[constant.name]
            #expect(value.flatMap(Scripts.DeductReply.code) == code)
        }
        #expect(
            Set(DeductCode.allCases.map { Scripts.DeductReply.constant($0).value }).count == DeductCode.allCases.count
        )
        #expect(Scripts.DeductReply.code(Scripts.DeductReply.ledgerFull.value) == nil, "a sentinel is not a code")
        #expect(declared[Scripts.DeductReply.ledgerFull.name] == Scripts.DeductReply.ledgerFull.value)
        #expect(declared[Scripts.DeductReply.replayed.name] == Scripts.DeductReply.replayed.value)
        #expect(declared[Scripts.DeductReply.notReplayed.name] == Scripts.DeductReply.notReplayed.value)
        #expect(Scripts.DeductReply.replayed.value != Scripts.DeductReply.notReplayed.value)
    }

    @Test func decodingEachCodeTheReleaseScriptDeclaresYieldsThatReleaseCode() {
        let declared = Self.declarations(Scripts.release)
        for code in ReleaseCode.allCases {
            let constant = Scripts.ReleaseReply.constant(code)
            #expect(Scripts.release.source.contains("local \(constant.name) = \(code.rawValue)\n"))
            #expect(declared[constant.name].flatMap(Scripts.ReleaseReply.code) == code)
            #expect(Self.words(Scripts.release.source).filter { $0 == constant.name }.count >= 2)
        }
        #expect(Scripts.ReleaseReply.code(Scripts.ReleaseReply.ledgerFull.value) == nil, "a sentinel is not a code")
        #expect(declared[Scripts.ReleaseReply.ledgerFull.name] == Scripts.ReleaseReply.ledgerFull.value)
    }

    @Test func putAndRepairScriptsDeclareTheSentinelsTheStoreDecodes() {
        let put = Self.declarations(Scripts.putItem)
        for constant in Scripts.PutItemReply.constants { #expect(put[constant.name] == constant.value) }
        // A generation is never taken for a sentinel.
        #expect(Scripts.PutItemReply.tooManyItems.value < Scripts.PutItemReply.firstGeneration.value)
        #expect(Scripts.PutItemReply.ledgerFull.value < Scripts.PutItemReply.firstGeneration.value)
        #expect(Scripts.PutItemReply.tooManyItems.value != Scripts.PutItemReply.ledgerFull.value)

        let repair = Self.declarations(Scripts.repairItem)
        var outcomes: Set<RepairOutcome> = []
        for constant in Scripts.RepairReply.constants {
            #expect(repair[constant.name] == constant.value)
            if let outcome = repair[constant.name].flatMap(Scripts.RepairReply.outcome) { outcomes.insert(outcome) }
        }
        #expect(outcomes == [.repaired, .generationChanged, .invalidSold, .soldChanged])

        for script in [Scripts.deduct, Scripts.release] {
            let declared = Self.declarations(script)
            for constant in Scripts.OrderReleasedField.constants { #expect(declared[constant.name] == constant.value) }
        }
    }
}
