import Logging

/// Who a log line is about: set once per request by the HTTP layer, added to every line logged
/// while the request is answered, by whichever component logs it (swift-log's metadata
/// provider reads it from the task). Never credentials, never message contents.
public enum RequestLog {
    @TaskLocal public static var metadata: Logger.Metadata = [:]

    /// Install on the server's loggers: `Logger(label:metadataProvider: RequestLog.provider)`.
    public static let provider = Logger.MetadataProvider { metadata }

    /// A short random id for one request, to find its lines.
    public static func newRequestId() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }
}
