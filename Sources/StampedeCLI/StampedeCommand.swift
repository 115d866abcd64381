import ArgumentParser

/// `stampede`: the flash-sale backend.
@available(macOS 15, *)
public struct StampedeCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "stampede",
        abstract: "Stampede: a flash-sale and live-commerce backend.",
        subcommands: [
            ServeCommand.self, WorkerCommand.self, ReconcileCommand.self, RedisScriptCommand.self,
            PaymentSimCommand.self, TracesCommand.self,
        ],
        defaultSubcommand: nil
    )

    public init() {}
}
