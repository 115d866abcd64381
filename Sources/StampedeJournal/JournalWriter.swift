import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Appends framed records to the journal file from a dedicated thread, with group commit.
///
/// Callers append under their own lock (so file order is apply order) and then wait with ``waitDurable(_:)``
/// (or its callback form). The writer thread takes everything appended so far, writes it with one `write` and
/// one `fdatasync`, and completes every waiter it covered: one fsync serves all the requests that arrived while
/// the last one ran. Completions run on the writer's thread and must not block: they delay the next group.
/// Any write or fsync failure stops the writer for good (fail-stop): what is in memory may then be ahead of the
/// disk, so the owner must refuse writes until a restart recovers from the disk.
///
/// Waking the writer costs the appender a futex call and both threads a context switch, which under load is
/// dearer than the append itself. So while busy the writer naps briefly (100 µs) between batches and appends
/// do not signal it; once three naps in a row find no work it sleeps until
/// the next append signals it, so an idle store costs nothing and its first append is written at once.
///
/// Not generic itself: an append encodes its record straight into the pending buffer through an inlinable generic
/// front (``append(_:)``), specialized in the caller, so there is no existential, no allocation beyond that buffer's
/// growth, and no type metadata to look up per append (a generic class used from another module runs unspecialized).
public final class JournalWriter: Sendable {
    private struct Waiter {
        var seq: UInt64
        var completion: @Sendable (Result<Void, JournalError>) -> Void
    }

    private struct State {
        var pending: [UInt8] = []
        var appendedSeq: UInt64
        var durableSeq: UInt64
        var waiters: [Waiter] = []
        var writerSleeping = false
        var failure: JournalError?
        var closing = false
        var closedContinuation: CheckedContinuation<Void, Never>?
        var finished = false
    }

    /// 64 MiB.
    public static let defaultPendingBytesMax = 64 << 20

    /// Most bytes waiting for the disk; past it ``checkWritable()`` throws ``JournalError/Code-swift.struct/busy``.
    public let pendingBytesMax: Int
    public let durability: Durability
    private let fd: Int32
    private let path: String
    private let state: Mutex<State>
    private let wake = DispatchSemaphore(value: 0)
    private let asyncSyncIntervalNanoseconds: UInt64 = 1_000_000_000
    /// After this many naps in a row without work the writer sleeps until signalled: a steady trickle of requests
    /// then costs a signal each, not thousands of empty wake-ups a second.
    private let emptyNapsMax = 3
    /// The nap between batches while busy: the most it adds to an acknowledgement's wait.
    private let napMicroseconds: UInt32 = 100

    /// Takes ownership of `fd`, an open journal positioned at its end whose last record is `lastSeq`, and starts
    /// the writer thread.
    public init(
        fd: Int32,
        path: String,
        lastSeq: UInt64,
        durability: Durability,
        pendingBytesMax: Int = JournalWriter.defaultPendingBytesMax
    ) {
        self.fd = fd
        self.path = path
        self.durability = durability
        self.pendingBytesMax = pendingBytesMax
        self.state = Mutex(State(appendedSeq: lastSeq, durableSeq: lastSeq))
        let thread = Thread { [self] in self.run() }
        thread.start()
    }

    /// Throws when the journal failed, is closing or is too far behind; call before changing state.
    public func checkWritable() throws(JournalError) {
        let problem: JournalError? = state.withLock { state in
            if let failure = state.failure { return failure }
            if state.closing { return JournalError(.closed, context: "journal is closing") }
            if state.pending.count >= pendingBytesMax {
                return JournalError(.busy, context: "\(state.pending.count) bytes wait for the disk")
            }
            return nil
        }
        if let problem { throw problem }
    }

    /// Appends one record and returns its sequence number. Never blocks on I/O.
    @inlinable
    public func append<Record: JournalRecordCodec>(_ record: Record) -> UInt64 {
        append { seq, bytes in JournalFrame.append(record, seq: seq, to: &bytes) }
    }

    /// Appends one frame, written by `frame` with the sequence number it is given, under the writer's lock.
    public func append(framing frame: (_ seq: UInt64, _ bytes: inout [UInt8]) -> Void) -> UInt64 {
        let (seq, signal) = state.withLock { state in
            state.appendedSeq += 1
            frame(state.appendedSeq, &state.pending)
            let signal = state.writerSleeping
            state.writerSleeping = false
            return (state.appendedSeq, signal)
        }
        if signal { wake.signal() }
        return seq
    }

    /// The sequence number of the last record appended.
    public var appendedSeq: UInt64 { state.withLock { $0.appendedSeq } }

    /// The sequence number of the last record on disk (written, in `async` mode; fsynced, in `sync`).
    public var durableSeq: UInt64 { state.withLock { $0.durableSeq } }

    /// Returns once every record up to `seq` is durable under this writer's durability — fsynced in `sync`,
    /// written to the file (in the kernel, safe from a process crash) in `async` — or throws if it never will be.
    public func waitDurable(_ seq: UInt64) async throws(JournalError) {
        let result = await withUnsafeContinuation {
            (continuation: UnsafeContinuation<Result<Void, JournalError>, Never>) in
            waitDurable(seq) { continuation.resume(returning: $0) }
        }
        if case .failure(let error) = result { throw error }
    }

    /// Calls `completion` once every record up to `seq` is durable (at once when it already is, else on the
    /// writer's thread), or with the reason it never will be.
    public func waitDurable(_ seq: UInt64, completion: @escaping @Sendable (Result<Void, JournalError>) -> Void) {
        let result: Result<Void, JournalError>? = state.withLock { state in
            if state.durableSeq >= seq { return .success(()) }
            if let failure = state.failure { return .failure(failure) }
            // Appended while the writer was closing: nothing will write it, so it is not acknowledged.
            if state.finished { return .failure(JournalError(.closed, context: "journal closed")) }
            state.waiters.append(Waiter(seq: seq, completion: completion))
            return nil
        }
        if let result { completion(result) }
    }

    /// Whether the writer has failed; a failed journal takes no more writes.
    public var failure: JournalError? { state.withLock { $0.failure } }

    /// Writes what is pending, fsyncs, stops the thread and closes the file. Waiters it did not cover fail with
    /// ``JournalError/Code-swift.struct/closed``.
    public func close() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let finished = state.withLock { state in
                if state.finished { return true }
                state.closing = true
                state.closedContinuation = continuation
                state.writerSleeping = false
                return false
            }
            if finished { continuation.resume() } else { wake.signal() }
        }
    }

    private func run() {
        var batch: [UInt8] = []
        var lastSyncNanoseconds = DispatchTime.now().uptimeNanoseconds
        var unsyncedBytes = false
        var emptyNaps = emptyNapsMax
        while true {
            var upTo: UInt64 = 0
            var closing = false
            var napping = false
            let hasWork = state.withLock { state in
                if state.pending.isEmpty {
                    closing = state.closing
                    napping = !closing && emptyNaps < emptyNapsMax
                    if !closing && !napping { state.writerSleeping = true }
                    return false
                }
                swap(&state.pending, &batch)
                upTo = state.appendedSeq
                return true
            }
            if !hasWork {
                if closing {
                    // In async mode acknowledged records may still be only in the kernel: a failed sync is a failure.
                    if unsyncedBytes && fdatasync(fd) != 0 {
                        finish(failure: failure(of: "fdatasync"))
                    } else {
                        finish(failure: nil)
                    }
                    return
                }
                if napping {
                    emptyNaps += 1
                    usleep(napMicroseconds)
                    continue
                }
                if durability == .async && unsyncedBytes {
                    // Wake once a second to fsync what async mode wrote without waiting.
                    if wake.wait(timeout: .now() + .seconds(1)) == .timedOut {
                        state.withLock { $0.writerSleeping = false }
                        if fdatasync(fd) != 0 {
                            finish(failure: failure(of: "fdatasync"))
                            return
                        }
                        unsyncedBytes = false
                        lastSyncNanoseconds = DispatchTime.now().uptimeNanoseconds
                    }
                } else {
                    wake.wait()
                }
                continue
            }
            emptyNaps = 0
            if let failure = writeAll(batch) {
                finish(failure: failure)
                return
            }
            batch.removeAll(keepingCapacity: true)
            let now = DispatchTime.now().uptimeNanoseconds
            if durability == .sync || now - lastSyncNanoseconds >= asyncSyncIntervalNanoseconds {
                if fdatasync(fd) != 0 {
                    finish(failure: failure(of: "fdatasync"))
                    return
                }
                lastSyncNanoseconds = now
                unsyncedBytes = false
            } else {
                unsyncedBytes = true
            }
            markDurable(upTo)
        }
    }

    private func writeAll(_ bytes: [UInt8]) -> JournalError? {
        var written = 0
        while written < bytes.count {
            let result = bytes.withUnsafeBytes { raw in
                write(fd, raw.baseAddress! + written, raw.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                return failure(of: "write")
            }
            written += result
        }
        return nil
    }

    private func failure(of call: String) -> JournalError {
        .systemCall(.writeFailed, "journal write failed; restart to recover from disk", call: call, path: path)
    }

    private func markDurable(_ seq: UInt64) {
        let ready: [Waiter] = state.withLock { state in
            state.durableSeq = seq
            var ready: [Waiter] = []
            state.waiters.removeAll { waiter in
                guard waiter.seq <= seq else { return false }
                ready.append(waiter)
                return true
            }
            return ready
        }
        for waiter in ready { waiter.completion(.success(())) }
    }

    private func finish(failure: JournalError?) {
        let (waiters, closed) = state.withLock { state in
            if let failure, state.failure == nil { state.failure = failure }
            state.finished = true
            let waiters = state.waiters
            state.waiters = []
            let closed = state.closedContinuation
            state.closedContinuation = nil
            return (waiters, closed)
        }
        let error = failure ?? JournalError(.closed, context: "journal closed")
        for waiter in waiters { waiter.completion(.failure(error)) }
        Glibc.close(fd)
        closed?.resume()
    }
}
