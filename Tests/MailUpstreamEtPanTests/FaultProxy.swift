import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// A loopback TCP proxy in front of a real server that a test can break on purpose: drop
/// every connection (a server restart), cut a connection after some bytes from the server
/// (a connection lost mid-literal), refuse new connections (a server down), or accept and
/// never answer (a hung server).
final class FaultProxy: @unchecked Sendable {
    // @unchecked Sendable: mutable state is guarded by `lock`.
    enum Mode { case forward, blackhole }

    private let targetPort: UInt16
    private let lock = NIOLock()
    private var listener: Int32 = -1
    private(set) var port: UInt16 = 0
    private var sockets: [Int32] = []
    private var mode = Mode.forward
    private var cutAfter: Int?

    init(targetPort: Int) throws {
        self.targetPort = UInt16(targetPort)
        try listen(on: 0)
    }

    deinit {
        stopListening()
        dropAll()
    }

    /// New connections from now on are forwarded or swallowed.
    func setMode(_ mode: Mode) { lock.withLock { self.mode = mode } }

    /// Each connection's server-to-client stream is cut once it has carried this many bytes
    /// in total (nil: never).
    func setCutAfter(_ bytes: Int?) { lock.withLock { cutAfter = bytes } }

    /// Closes every proxied connection, as a server restart would.
    func dropAll() {
        let open = lock.withLock {
            defer { sockets.removeAll() }
            return sockets
        }
        for fd in open { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Stops accepting: connecting fails as if the server were down.
    func stopListening() {
        let fd = lock.withLock {
            defer { listener = -1 }
            return listener
        }
        // Only shut down: the accept thread closes the descriptor when accept fails, so that its
        // number is not reused (by another test's socket) while that thread may still use it.
        if fd >= 0 { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    /// Accepts again on the same port.
    func resumeListening() throws { try listen(on: port) }

    private func listen(on requested: UInt16) throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = requested.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, Glibc.listen(fd, 64) == 0 else {
            close(fd)
            throw ProxyError(message: "cannot listen on 127.0.0.1:\(requested): errno \(errno)")
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { _ = getsockname(fd, $0, &length) }
        }
        lock.withLock {
            listener = fd
            port = UInt16(bigEndian: address.sin_port)
        }
        Thread.detachNewThread { [weak self] in self?.acceptLoop(fd) }
    }

    private func acceptLoop(_ listener: Int32) {
        while true {
            let client = accept(listener, nil, nil)
            guard client >= 0 else {
                close(listener)
                return
            }
            let (mode, cutAfter) = lock.withLock { (self.mode, self.cutAfter) }
            lock.withLock { sockets.append(client) }
            if mode == .blackhole { continue }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_port = targetPort.bigEndian
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(server)
                shutdown(client, Int32(SHUT_RDWR))
                continue
            }
            lock.withLock { sockets.append(server) }
            Thread.detachNewThread { Self.pump(from: client, to: server, limit: nil) }
            Thread.detachNewThread { Self.pump(from: server, to: client, limit: cutAfter) }
        }
    }

    private static func pump(from source: Int32, to destination: Int32, limit: Int?) {
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        var carried = 0
        while true {
            let count = read(source, &buffer, buffer.count)
            guard count > 0 else { break }
            var toSend = count
            if let limit, carried + count > limit { toSend = max(0, limit - carried) }
            if toSend > 0, buffer.withUnsafeBytes({ send(destination, $0.baseAddress, toSend, Int32(MSG_NOSIGNAL)) }) < 0 { break }
            carried += toSend
            if toSend < count { break }
        }
        shutdown(source, Int32(SHUT_RDWR))
        shutdown(destination, Int32(SHUT_RDWR))
    }

    struct ProxyError: Error { var message: String }
}
