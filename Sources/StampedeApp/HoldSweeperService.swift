import ServiceLifecycle
import StampedeInventory

/// Runs the ``HoldSweeper`` until a graceful shutdown begins (before the store closes).
public struct HoldSweeperService: Service {
    let sweeper: HoldSweeper

    public init(sweeper: HoldSweeper) { self.sweeper = sweeper }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            await sweeper.run()
        }
    }
}
