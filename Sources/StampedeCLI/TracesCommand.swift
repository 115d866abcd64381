import ArgumentParser
import Foundation
import StampedeTraceAnalysis

/// `stampede traces`: tools over kept traces.
struct TracesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "traces",
        abstract: "Analyse kept traces.",
        subcommands: [SlowTracesCommand.self]
    )
}

/// `stampede traces slow FILE…`: the critical path and self time of the slowest traces.
struct SlowTracesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "slow",
        abstract: "Print the critical path and the self time per span of the slowest traces in OTLP/JSON files.",
        discussion: """
            Reads OTLP/JSON trace exports (one request object, or one per line as the OpenTelemetry Collector's \
            file exporter writes them). For each trace whose root lasted at least --min-ms, slowest first: the \
            spans on its critical path with the share of the trace each accounts for; then the self time \
            (duration minus the time covered by children) per span name.
            """
    )

    @Argument(help: "OTLP/JSON files.")
    var files: [String]

    @Option(help: "Traces whose root lasted at least this many ms.")
    var minMs = 1000

    @Option(help: "How many traces to show.")
    var top = 10

    func validate() throws {
        guard minMs >= 0 else { throw ValidationError("--min-ms must not be negative") }
        guard top >= 1 else { throw ValidationError("--top must be at least 1") }
    }

    func run() async throws {
        var spans: [TraceSpan] = []
        for file in files {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw ValidationError("cannot read \(file)")
            }
            do {
                spans += try OTLPJSONReader.spans(from: data)
            } catch {
                throw ValidationError("\(file): \(error)")
            }
        }
        let reports = TraceAnalysis.slowTraces(spans, minimumNanoseconds: UInt64(minMs) * 1_000_000)
        print(SlowTraceReport.render(reports, top: top), terminator: "")
    }
}
