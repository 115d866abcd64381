import MetricsTestKit
import Testing

@testable import StampedeInventory

@Suite("Inventory metrics keep seed 001's names")
struct InventoryMetricsTests {
    @Test func deductsAreCountedByResultWithTheirDuration() throws {
        let factory = TestMetrics()
        let metrics = InventoryMetrics(factory: factory)
        metrics.recordDeduct(result: "success", durationNanoseconds: 1_500_000)
        metrics.recordDeduct(result: "success", durationNanoseconds: 500_000)
        metrics.recordDeduct(result: "insufficient_stock", durationNanoseconds: 100_000)
        metrics.recordDeduct(result: "made_up", durationNanoseconds: 100_000)

        let success = try factory.expectCounter("inventory.deduct.total", [("result", "success")])
        #expect(success.totalValue == 2)
        #expect(try factory.expectCounter("inventory.deduct.total", [("result", "insufficient_stock")]).totalValue == 1)
        #expect(try factory.expectCounter("inventory.deduct.total", [("result", "error")]).totalValue == 1)
        #expect(try factory.expectCounter("inventory.qps").totalValue == 4)
        let duration = try factory.expectRecorder("inventory.deduct.duration")
        #expect(duration.values == [1.5, 0.5, 0.1, 0.1])
    }

    @Test func stockGaugeIsPerSkuAndBounded() throws {
        let factory = TestMetrics()
        let metrics = InventoryMetrics(factory: factory, stockSeriesMax: 2)
        metrics.recordStock(sku: "A", stock: 5)
        metrics.recordStock(sku: "A", stock: 4)
        metrics.recordStock(sku: "B", stock: 9)
        metrics.recordStock(sku: "C", stock: 1)
        #expect(try factory.expectGauge("inventory.stock.current", [("sku", "A")]).lastValue == 4)
        #expect(try factory.expectGauge("inventory.stock.current", [("sku", "B")]).lastValue == 9)
        #expect(throws: (any Error).self) { try factory.expectGauge("inventory.stock.current", [("sku", "C")]) }
    }
}
