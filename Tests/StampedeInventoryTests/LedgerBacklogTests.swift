import Testing

@testable import StampedeInventory

@Suite("Ledger backlog: what the embedded worker may read")
struct LedgerBacklogTests {
    func backlog(seqs: [UInt64]) -> LedgerBacklog {
        var backlog = LedgerBacklog()
        for seq in seqs {
            let event = LedgerEvent.item(
                sku: "S\(seq)",
                generation: 1,
                config: ItemConfig(stock: 1, rateWindowMilliseconds: 0),
                timestampMilliseconds: Int64(seq)
            )
            backlog.append(seq: seq, event: event, traceParent: nil)
        }
        return backlog
    }

    @Test func entriesNotYetDurableAreNotHandedToTheLedger() {
        let backlog = backlog(seqs: [3, 5, 8, 9])
        #expect(backlog.first(10, durableThrough: 2).isEmpty)
        #expect(backlog.first(10, durableThrough: 8).map(\.id) == ["3", "5", "8"])
        #expect(backlog.first(2, durableThrough: 100).map(\.id) == ["3", "5"])
    }

    @Test func traceContextAttachesToItsEntryWhereverItIs() {
        var backlog = backlog(seqs: Array(stride(from: 2, through: 200, by: 2)))
        backlog.attach(traceParent: "first", toSeq: 2)
        backlog.attach(traceParent: "middle", toSeq: 100)
        backlog.attach(traceParent: "last", toSeq: 200)
        backlog.attach(traceParent: "none", toSeq: 101)
        backlog.attach(traceParent: "gone", toSeq: 1)
        let traced = backlog.first(1000, durableThrough: .max).compactMap { entry in
            entry.traceParent.map { "\(entry.id)=\($0)" }
        }
        #expect(traced == ["2=first", "100=middle", "200=last"])
        backlog.acknowledge(through: 100)
        #expect(backlog.count == 50 && backlog.first(1, durableThrough: .max).first?.id == "102")
    }
}
