import Foundation
import HummingbirdCore
import Logging
import NIOCore
import NIOSSL
import Synchronization

/// The HTTPS certificate and key, read again when their files change (a renewal by certbot or
/// an ACME client) or when asked (SIGHUP): new connections get the new certificate, open ones
/// keep theirs, and nothing restarts. A file that cannot be read or does not hold a matching
/// pair leaves the current certificate in place (a renewal caught half-written is retried at
/// the next look).
public final class TLSCertificateReloader: Sendable {
    let certificateFile: String
    let keyFile: String
    private let state: Mutex<(context: NIOSSLContext, stamp: [String])>
    private let logger: Logger

    /// Reads the files once; throws when they do not make a TLS context (the server does not
    /// start on a broken certificate).
    public init(certificateFile: String, keyFile: String, logger: Logger) throws {
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.logger = logger
        let stamp = Self.stamp(certificateFile, keyFile)
        state = Mutex((try Self.context(certificateFile, keyFile), stamp))
    }

    /// The context new connections use.
    public var context: NIOSSLContext { state.withLock { $0.context } }

    /// Reads the files again if they changed since the last read (or always, with `force`).
    /// Returns whether a new certificate is now in use.
    @discardableResult
    public func reloadIfChanged(force: Bool = false) -> Bool {
        let stamp = Self.stamp(certificateFile, keyFile)
        guard force || stamp != state.withLock({ $0.stamp }) else { return false }
        do {
            let context = try Self.context(certificateFile, keyFile)
            state.withLock { $0 = (context, stamp) }
            logger.notice("TLS certificate reloaded", metadata: ["certificate": "\(certificateFile)"])
            return true
        } catch {
            // The stamp is not taken: the next look tries again.
            logger.warning("TLS certificate not reloaded; the previous one stays in use",
                           metadata: ["certificate": "\(certificateFile)", "error": "\(error)"])
            return false
        }
    }

    /// The reloaders of the servers running in this process, for `reloadEverywhere`.
    private static let running = Mutex<[ObjectIdentifier: TLSCertificateReloader]>([:])

    /// Reads every running server's certificate again (SIGHUP in `airgate serve`).
    public static func reloadEverywhere() {
        for reloader in running.withLock({ Array($0.values) }) { reloader.reloadIfChanged(force: true) }
    }

    /// Looks at the files every `interval` (nil: never; only `reloadEverywhere`) until
    /// cancelled, and answers `reloadEverywhere` meanwhile.
    public func watch(every interval: Duration?) async {
        let key = ObjectIdentifier(self)
        Self.running.withLock { $0[key] = self }
        defer { _ = Self.running.withLock { $0.removeValue(forKey: key) } }
        while !Task.isCancelled {
            try? await Task.sleep(for: interval ?? .seconds(3600))
            if Task.isCancelled { return }
            if interval != nil { reloadIfChanged() }
        }
    }

    /// Modification time, size and inode of both files: a renewal changes at least one.
    static func stamp(_ paths: String...) -> [String] {
        paths.map { path in
            guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return "missing" }
            let modified = (attributes[.modificationDate] as? Date)?.timeIntervalSince1970 ?? 0
            return "\(modified) \(attributes[.size] ?? 0) \(attributes[.systemFileNumber] ?? 0)"
        }
    }

    /// TLS 1.2 or later with the chain and key of the files.
    static func context(_ certificateFile: String, _ keyFile: String) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(certificateFile).map { NIOSSLCertificateSource.certificate($0) }
        guard !chain.isEmpty else { throw TLSFileError(description: "\(certificateFile) holds no certificate") }
        let key = try NIOSSLPrivateKey(file: keyFile, format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // BoringSSL checks that the key belongs to the certificate when the context is made.
        return try NIOSSLContext(configuration: configuration)
    }

    struct TLSFileError: Error, CustomStringConvertible {
        var description: String
    }
}

/// An HTTP child channel behind TLS whose certificate comes from a reloader at each new
/// connection.
struct ReloadingTLSChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base
    let certificates: TLSCertificateReloader

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        channel.eventLoop.makeCompletedFuture {
            try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: certificates.context))
        }.flatMap {
            base.setup(channel: channel, logger: logger)
        }
    }

    func handle(value: Base.Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension ReloadingTLSChannel: HTTPChannelHandler where Base: HTTPChannelHandler {
    var responder: HTTPChannelHandler.Responder { base.responder }
}
