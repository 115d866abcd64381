import Hummingbird

/// The request context of every Stampede route: a small upload limit, nothing else.
public struct AppRequestContext: RequestContext {
    /// Largest request body accepted, in bytes. A full batch of 100 deducts with 128-byte ids fits easily.
    public static let requestBodyBytesMax = 64 * 1024

    public var coreContext: CoreRequestContextStorage

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }

    public var maxUploadSize: Int { Self.requestBodyBytesMax }
}
