import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL

/// An HTTP/1.1 response as it came off the wire: what `airgate probe` and the tests inspect,
/// including what an ordinary HTTP client hides (a missing Content-Length, chunked bodies).
public struct HTTPExchangeResponse: Sendable {
    public var status: Int
    public var headers: [(name: String, value: String)]
    public var body: [UInt8]
    /// The body came with `Transfer-Encoding: chunked`.
    public var chunked: Bool

    public init(status: Int, headers: [(name: String, value: String)], body: [UInt8], chunked: Bool) {
        self.status = status
        self.headers = headers
        self.body = body
        self.chunked = chunked
    }

    public func header(_ name: String) -> String? {
        headers.first { $0.name.lowercased() == name.lowercased() }?.value
    }
}

/// HTTPS for `HTTPExchange`: TLS 1.2 or later, the certificate checked against the system's
/// roots (or a CA file) and the host name, unless told not to.
public struct HTTPExchangeTLS: Sendable {
    public var caFile: String?
    public var verifyCertificate: Bool

    public init(caFile: String? = nil, verifyCertificate: Bool = true) {
        self.caFile = caFile
        self.verifyCertificate = verifyCertificate
    }
}

/// A minimal HTTP/1.1 client on SwiftNIO: one connection per request, plain TCP or TLS.
public struct HTTPExchange: Sendable {
    public var host: String
    public var port: Int
    public var timeout: Duration
    /// nil: plain HTTP.
    public var tls: HTTPExchangeTLS?
    /// For fault injection: drop the connection once this many body bytes have come (the
    /// request then fails as a cut-off answer does).
    public var cutAfterBodyBytes: Int?

    /// Largest response body read.
    public static let maxResponseBytes = 64 * 1024 * 1024

    public init(host: String, port: Int, timeout: Duration = .seconds(120), tls: HTTPExchangeTLS? = nil) {
        self.host = host
        self.port = port
        self.timeout = timeout
        self.tls = tls
    }

    /// The context for `tls`, made once per request (a probe makes a handful).
    private func sslContext(_ tls: HTTPExchangeTLS) throws -> NIOSSLContext {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.minimumTLSVersion = .tlsv12
        if let caFile = tls.caFile {
            configuration.trustRoots = .file(caFile)
        }
        if !tls.verifyCertificate { configuration.certificateVerification = .none }
        return try NIOSSLContext(configuration: configuration)
    }

    public func send(method: HTTPMethod, path: String, headers: [(String, String)], body: [UInt8]) async throws
        -> HTTPExchangeResponse
    {
        let group = MultiThreadedEventLoopGroup.singleton
        let promise = group.any().makePromise(of: HTTPExchangeResponse.self)
        let collector = ResponseCollector(promise: promise, cutAfter: cutAfterBodyBytes)
        let channel: any Channel
        do {
            let context = try tls.map(sslContext)
            let serverName = host.contains(":") || host.allSatisfy({ $0.isNumber || $0 == "." }) ? nil : host
            channel = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .channelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        if let context {
                            try channel.pipeline.syncOperations.addHandler(
                                try NIOSSLClientHandler(context: context, serverHostname: serverName))
                        }
                        try channel.pipeline.syncOperations.addHTTPClientHandlers()
                        try channel.pipeline.syncOperations.addHandler(collector)
                    }
                }
                .connect(host: host, port: port).get()
        } catch {
            // Nobody listens (yet): the promise must still be completed.
            promise.fail(error)
            throw error
        }
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: "\(host):\(port)")
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        head.headers.add(name: "Content-Length", value: String(body.count))
        head.headers.add(name: "Connection", value: "close")
        channel.write(HTTPClientRequestPart.head(head), promise: nil)
        if !body.isEmpty { channel.write(HTTPClientRequestPart.body(.byteBuffer(ByteBuffer(bytes: body))), promise: nil) }
        try await channel.writeAndFlush(HTTPClientRequestPart.end(nil)).get()
        let deadline = channel.eventLoop.scheduleTask(in: .nanoseconds(Int64(timeout.components.seconds) * 1_000_000_000)) {
            promise.fail(ChannelError.connectTimeout(.seconds(timeout.components.seconds)))
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        let response = try await promise.futureResult.get()
        try? await channel.close()
        return response
    }
}

private final class ResponseCollector: ChannelInboundHandler, @unchecked Sendable {
    // @unchecked Sendable: used only on its channel's event loop.
    typealias InboundIn = HTTPClientResponsePart

    private let promise: EventLoopPromise<HTTPExchangeResponse>
    private var response: HTTPExchangeResponse?
    private let cutAfter: Int?

    init(promise: EventLoopPromise<HTTPExchangeResponse>, cutAfter: Int?) {
        self.promise = promise
        self.cutAfter = cutAfter
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            response = HTTPExchangeResponse(
                status: Int(head.status.code), headers: head.headers.map { ($0.name, $0.value) }, body: [],
                chunked: head.headers["transfer-encoding"].contains { $0.lowercased().contains("chunked") })
        case .body(let buffer):
            guard let received = response?.body.count else { return }
            guard received + buffer.readableBytes <= HTTPExchange.maxResponseBytes else {
                promise.fail(ChannelError.inputClosed)
                context.close(promise: nil)
                return
            }
            // Appended in place: a copy of the response here would copy the body so far each
            // time (quadratic in a large download).
            response?.body.append(contentsOf: buffer.readableBytesView)
            if let cutAfter, received + buffer.readableBytes >= cutAfter {
                promise.fail(ChannelError.inputClosed)
                context.close(promise: nil)
            }
        case .end:
            if let response { promise.succeed(response) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        promise.fail(ChannelError.inputClosed)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        promise.fail(error)
        context.close(promise: nil)
    }
}
