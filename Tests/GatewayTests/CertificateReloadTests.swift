import AirgateServer
import AirgateTestSupport
import Foundation
import Logging
import Testing

/// The HTTPS certificate is replaced on disk (a renewal) and served to new connections without
/// a restart; a broken replacement leaves the previous one in use.
@Suite struct CertificateReloadTests {
    /// A self-signed certificate and key for `name` written to the two files (key first, as a
    /// renewal tool might, so a look in between sees a mismatched pair).
    static func writeCertificate(_ name: String, certificate: String, key: String) async throws {
        try await Stack.python("""
            import subprocess, sys, os, tempfile
            name, cert, key = sys.argv[1], sys.argv[2], sys.argv[3]
            d = tempfile.mkdtemp()
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                            "-keyout", d + "/k.pem", "-out", d + "/c.pem"], check=True, capture_output=True)
            open(key, "w").write(open(d + "/k.pem").read())
            open(cert, "w").write(open(d + "/c.pem").read())
            """, [name, certificate, key])
    }

    /// The common name of the certificate a new TLS connection is given, and the status of an
    /// OPTIONS request on the connection opened before (kept alive across the reload).
    static func servedName(port: Int) async throws -> String {
        try await Stack.python("""
            import socket, ssl, sys, subprocess
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
            with socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5) as raw:
                with context.wrap_socket(raw) as tls:
                    der = tls.getpeercert(binary_form=True)
            pem = ssl.DER_cert_to_PEM_cert(der)
            subject = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem, capture_output=True, text=True).stdout
            print(subject.strip().split("CN")[-1].strip(" =") if subject else "?")
            """, [String(port)])
    }

    @Test func aRenewedCertificateIsServedWithoutARestart() async throws {
        guard Stack.available() else { return }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("airgate-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificate = directory.appendingPathComponent("cert.pem").path
        let key = directory.appendingPathComponent("key.pem").path
        try await Self.writeCertificate("first.airgate.test", certificate: certificate, key: key)
        var logger = Logger(label: "airgate.test")
        logger.logLevel = .critical
        let gateway = try await RunningGateway.start(logger: logger) { configuration in
            configuration.tls = (certificate, key)
            configuration.tlsReloadInterval = .milliseconds(200)
        }
        defer { Task { await gateway.stop() } }
        #expect(try await Self.servedName(port: gateway.port) == "first.airgate.test")

        // A connection opened before the renewal (it was given the first certificate) keeps
        // working after it.
        let kept = Task {
            try await Stack.python("""
                import http.client, ssl, subprocess, sys, time
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
                connection = http.client.HTTPSConnection("127.0.0.1", int(sys.argv[1]), context=context, timeout=10)
                connection.request("OPTIONS", "/Microsoft-Server-ActiveSync")
                first = connection.getresponse(); first.read()
                pem = ssl.DER_cert_to_PEM_cert(connection.sock.getpeercert(binary_form=True))
                subject = subprocess.run(["openssl", "x509", "-noout", "-subject"], input=pem, capture_output=True, text=True).stdout
                time.sleep(3)
                connection.request("OPTIONS", "/Microsoft-Server-ActiveSync")
                print(subject.strip().split("CN")[-1].strip(" ="), first.status, connection.getresponse().status)
                """, [String(gateway.port)])
        }
        try await Task.sleep(for: .seconds(1))
        try await Self.writeCertificate("second.airgate.test", certificate: certificate, key: key)
        var served = ""
        for _ in 0..<50 {
            served = try await Self.servedName(port: gateway.port)
            if served == "second.airgate.test" { break }
            try await Task.sleep(for: .milliseconds(200))
        }
        #expect(served == "second.airgate.test")
        #expect(try await kept.value == "first.airgate.test 200 200")

        // A broken file (a renewal caught half-written): the second certificate stays.
        try "-----BEGIN CERTIFICATE-----\nnot base64\n".write(toFile: certificate, atomically: false, encoding: .utf8)
        try await Task.sleep(for: .seconds(1))
        #expect(try await Self.servedName(port: gateway.port) == "second.airgate.test")

        // Without looking at the files, only `reloadEverywhere` (what SIGHUP calls in
        // `airgate serve`) reads them again.
        let manualCertificate = directory.appendingPathComponent("manual-cert.pem").path
        let manualKey = directory.appendingPathComponent("manual-key.pem").path
        try await Self.writeCertificate("manual-one.airgate.test", certificate: manualCertificate, key: manualKey)
        let manual = try await RunningGateway.start(logger: logger) { configuration in
            configuration.tls = (manualCertificate, manualKey)
            configuration.tlsReloadInterval = nil
        }
        defer { Task { await manual.stop() } }
        try await Self.writeCertificate("manual-two.airgate.test", certificate: manualCertificate, key: manualKey)
        try await Task.sleep(for: .seconds(1))
        #expect(try await Self.servedName(port: manual.port) == "manual-one.airgate.test")
        TLSCertificateReloader.reloadEverywhere()
        #expect(try await Self.servedName(port: manual.port) == "manual-two.airgate.test")
    }
}
