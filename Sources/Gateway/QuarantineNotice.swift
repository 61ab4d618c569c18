import MailUpstream
import SyncState

/// What Exchange does when it quarantines a device: tell the mailbox's owner, in their Inbox,
/// which device waits and that an administrator has to let it in. The user reads it on
/// another client (webmail, a computer); the quarantined device itself gets Status 129.
enum QuarantineNotice {
    /// The notice as a message (RFC 5322, ASCII headers, UTF-8 body), to `address`.
    static func message(for device: Device, address: String, date: String) -> [UInt8] {
        let domain = address.split(separator: "@").last.map(String.init) ?? "localhost"
        let name = device.information.friendlyName ?? device.information.model ?? device.deviceType
        // Values a device chose go into the body only, never into headers.
        var lines = [
            "Your device \(printable(name)) has connected to this mailbox with Exchange ActiveSync and is",
            "waiting for your administrator's approval. Until it is approved it cannot read or send mail",
            "from this mailbox. Your other devices are not affected.",
            "",
            "Device type: \(printable(device.deviceType))",
            "Device ID:   \(printable(device.ref.deviceId))",
        ]
        if let model = device.information.model { lines.append("Model:       \(printable(model))") }
        if let os = device.information.os { lines.append("OS:          \(printable(os))") }
        if let agent = device.userAgent { lines.append("User agent:  \(printable(agent))") }
        lines += ["", "If this is not your device, tell your administrator: someone else may know your password."]
        let headers = [
            "From: Airgate <postmaster@\(domain)>",
            "To: <\(address)>",
            "Subject: A new device is waiting for approval",
            "Date: \(date)",
            "Message-ID: <quarantine.\(String(UInt64.random(in: 0...UInt64.max), radix: 36))@\(domain)>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
        ]
        return Array((headers.joined(separator: "\r\n") + "\r\n\r\n" + lines.joined(separator: "\r\n") + "\r\n").utf8)
    }

    /// At most 200 characters, no control characters.
    static func printable(_ text: String) -> String {
        String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.prefix(200).map(Character.init))
    }
}

extension Gateway {
    /// Puts the notice into the account's Inbox. A failure is logged, not answered: the
    /// device is quarantined either way.
    func deliverQuarantineNotice(_ device: Device, account: MailAccount) async {
        guard configuration.access.quarantineNotice else { return }
        let message = QuarantineNotice.message(for: device, address: account.emailAddress, date: RFC5322Date.now())
        do {
            _ = try await account.session.append(to: IMAPMailboxName(wire: "INBOX"), message: message, flags: [],
                                                 internalDate: Self.wallClockMilliseconds())
            logger.notice("device quarantined; the user was told", metadata: ["device_type": "\(device.deviceType)"])
        } catch {
            logger.warning("device quarantined; the notice could not be delivered", metadata: ["error": "\(error)"])
        }
    }
}
