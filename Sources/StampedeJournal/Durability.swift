/// When an acknowledged write is on disk.
public enum Durability: String, Sendable, Hashable, CaseIterable {
    /// Every acknowledged change is fsynced before the answer (group commit: one fsync for many changes).
    case sync
    /// Changes are written at once and fsynced about once a second: they survive a process crash (`kill -9`)
    /// but the last second may be lost on power loss. Seed 001's behaviour.
    case async
}
