import ArgumentParser
import Foundation
import Testing

@testable import StampedeCLI

/// The README's configuration table is what `stampede serve --help` says: the same options, variables and
/// defaults. A flag added, renamed or given another default without the README (or the other way round) fails here.
@Suite("README configuration matches --help")
struct ReadmeConfigurationTests {
    struct Row: Equatable, CustomStringConvertible {
        var flag: String
        var variable: String
        var defaultValue: String
        var description: String { "\(flag) \(variable) \(defaultValue)" }
    }

    /// The rows of the README's `flag | environment | default | meaning` table.
    static func readmeRows() throws -> [String: Row] {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        var rows: [String: Row] = [:]
        var inTable = false
        for line in readme.components(separatedBy: "\n") {
            if line.hasPrefix("| flag | environment | default |") {
                inTable = true
                continue
            }
            guard inTable else { continue }
            guard line.hasPrefix("|") else { break }
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 3, cells[0].hasPrefix("`--") else { continue }
            let flag = cells[0].replacingOccurrences(of: "`", with: "").replacingOccurrences(of: "[no-]", with: "")
            let row = Row(
                flag: flag,
                variable: cells[1].replacingOccurrences(of: "`", with: ""),
                defaultValue: cells[2].replacingOccurrences(of: "`", with: "")
            )
            rows[flag] = row
        }
        return rows
    }

    /// Each option of `serve --help` with the variable and default its help names (`Env: X. Default: Y.`).
    static func helpRows(_ help: String = ServeCommand.helpMessage(columns: 10_000)) -> [String: Row] {
        // An option's help may start on the line after its name: gather each option's lines first.
        var options: [(flag: String, text: String)] = []
        for line in help.components(separatedBy: "\n") {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.hasPrefix("--") {
                // `--name <name>` or `--name/--no-name`.
                options.append((String(trimmed.prefix { $0 != " " && $0 != "/" }), trimmed))
            } else if !options.isEmpty, !trimmed.isEmpty, line.hasPrefix("  ") {
                options[options.count - 1].text += " " + trimmed
            }
        }
        var rows: [String: Row] = [:]
        for (flag, text) in options {
            guard let envRange = text.range(of: "Env: ") else { continue }
            let variable = String(text[envRange.upperBound...].prefix { $0 != "." && $0 != " " })
            var defaultValue = ""
            if let defaultRange = text.range(of: "Default: ") {
                defaultValue = String(text[defaultRange.upperBound...])
                if defaultValue.hasSuffix(".") { defaultValue.removeLast() }
            }
            rows[flag] = Row(flag: flag, variable: variable, defaultValue: defaultValue)
        }
        return rows
    }

    @Test func everyServeOptionHasItsRowWithTheSameVariableAndDefault() throws {
        let readme = try Self.readmeRows()
        let help = Self.helpRows()
        #expect(help.count >= 20, "the help of serve was read: \(help.keys.sorted())")
        for (flag, option) in help.sorted(by: { $0.key < $1.key }) {
            guard let row = readme[flag] else {
                Issue.record("README has no row for \(flag)")
                continue
            }
            #expect(row.variable == option.variable, "\(flag): README says \(row.variable), --help \(option.variable)")
            // The README may say less than the help ("unset" for "unset (embedded store in --data-dir)").
            #expect(
                option.defaultValue.lowercased().contains(row.defaultValue.lowercased()),
                "\(flag): README's default \(row.defaultValue), --help's \(option.defaultValue)"
            )
        }
        for flag in readme.keys.sorted() where help[flag] == nil {
            Issue.record("README documents \(flag), which serve --help does not list")
        }
    }

    @Test func everyVariableOfWorkerAndReconcileIsDocumented() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let commands = [
            ("worker", WorkerCommand.helpMessage(columns: 10_000)),
            ("reconcile", ReconcileCommand.helpMessage(columns: 10_000)),
        ]
        for (name, help) in commands {
            let rows = Self.helpRows(help)
            #expect(rows.count >= 5, "the help of \(name) was read: \(rows.keys.sorted())")
            for row in rows.values.sorted(by: { $0.flag < $1.flag }) where !readme.contains("`\(row.variable)`") {
                Issue.record("\(name) \(row.flag) reads \(row.variable), which README.md does not name")
            }
        }
    }
}
