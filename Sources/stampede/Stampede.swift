import ArgumentParser
import StampedeCLI

/// The `stampede` executable: only the entry point; the commands live in StampedeCLI.
@main
struct Stampede: AsyncParsableCommand {
    static let configuration = StampedeCommand.configuration
}
