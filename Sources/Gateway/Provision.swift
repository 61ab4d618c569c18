import EASProtocol
import SyncState

/// [MS-ASPROV] Provision: policy download (temporary key), acknowledgement (final key) and
/// remote wipe.
extension Gateway {
    func provision(_ context: RequestContext, _ device: inout Device) async throws -> EASResponse {
        typealias P = EASTag.Provision
        guard let body = context.request.body, let request = try? ProvisionRequest(body) else {
            return .ok(EASElement(P.provision, children: [EASElement(P.status, text: "2")]))
        }
        // A wipe acknowledgement.
        if device.wipeState == .sent, request.remoteWipeStatus != nil || request.accountOnlyRemoteWipeStatus != nil {
            device.wipeState = .acknowledged
            try await store.saveDevice(device)
            return .ok(EASElement(P.provision, children: [EASElement(P.status, text: "1")]))
        }
        if device.wipeState == .pending || device.wipeState == .sent {
            device.wipeState = .sent
            try await store.saveDevice(device)
            let wipe = device.wipeAccountOnly && context.version >= .v16_1 ? P.accountOnlyRemoteWipe : P.remoteWipe
            return .ok(EASElement(P.provision, children: [EASElement(P.status, text: "1"), EASElement(wipe)]))
        }
        let policyType = request.policyType ?? (context.version >= .v12_0 ? "MS-EAS-Provisioning-WBXML" : "MS-WAP-Provisioning-XML")
        guard policyType == "MS-EAS-Provisioning-WBXML" else {
            // Only the WBXML policy document is offered ([MS-ASPROV] 3.2.5.1.1: Status 2 policy type unknown).
            return Self.policyAnswer(policyType, status: "3")
        }
        if let acknowledged = request.acknowledgedKey {
            // Step two: the client confirms the temporary key; the final key replaces it.
            guard device.policyState == .temporary, acknowledged == device.policyKey else {
                return Self.policyAnswer(policyType, status: "5")
            }
            let finalKey = Self.newPolicyKey()
            device.policyKey = finalKey
            device.policyState = .final
            try await store.saveDevice(device)
            return Self.policyAnswer(policyType, status: "1", key: finalKey)
        }
        // Step one: a temporary key and the policy.
        let temporary = Self.newPolicyKey()
        device.policyKey = temporary
        device.policyState = .temporary
        try await store.saveDevice(device)
        return Self.policyAnswer(policyType, status: "1", key: temporary, document: context.settings.policy.document())
    }

    /// [MS-ASPROV] 2.2.2.38 Policy in a Provision answer: type, status, then key and document
    /// when there are any.
    static func policyAnswer(_ type: String, status: String, key: String? = nil, document: EASElement? = nil) -> EASResponse {
        typealias P = EASTag.Provision
        var policy = [EASElement(P.policyType, text: type), EASElement(P.status, text: status)]
        if let key { policy.append(EASElement(P.policyKey, text: key)) }
        if let document { policy.append(EASElement(P.data, children: [document])) }
        return .ok(EASElement(P.provision, children: [
            EASElement(P.status, text: "1"),
            EASElement(P.policies, children: [EASElement(P.policy, children: policy)]),
        ]))
    }

    /// Whether the request may proceed without (re)provisioning.
    func policySatisfied(_ context: RequestContext) async throws -> Bool {
        if context.settings.allowNonProvisionableDevices,
           context.settings.nonProvisionableDeviceTypes.contains(context.request.deviceType)
        {
            return true
        }
        guard context.device.policyState == .final, let key = context.device.policyKey else { return false }
        return context.request.policyKey == key
    }

    /// 449 up to 12.1; from 14.0 the command's own body with status 142 ([MS-ASPROV] 3.2.5.1),
    /// with 449 as well, which some 14.1 clients need.
    func provisionRequired(_ context: RequestContext) async throws -> EASResponse {
        guard context.version.usesInBandProvisioningStatus, let root = Self.rootTag(of: context.request.command) else {
            return EASResponse(httpStatus: 449)
        }
        let status = context.device.wipeState == .pending ? "140" : (context.request.policyKey == nil ? "142" : "144")
        return .ok(EASElement(root.tag, children: [EASElement(root.status, text: status)]))
    }

    static func rootTag(of command: EASCommand) -> (tag: EASTag, status: EASTag)? {
        switch command {
        case .sync: (EASTag.AirSync.sync, EASTag.AirSync.status)
        case .folderSync: (EASTag.FolderHierarchy.folderSync, EASTag.FolderHierarchy.status)
        case .getItemEstimate: (EASTag.GetItemEstimate.getItemEstimate, EASTag.GetItemEstimate.status)
        case .itemOperations: (EASTag.ItemOperations.itemOperations, EASTag.ItemOperations.status)
        default: nil
        }
    }

    /// A policy key: a non-zero decimal number of at most 10 digits ([MS-ASPROV] 2.2.2.42).
    static func newPolicyKey() -> String {
        var generator = SystemRandomNumberGenerator()
        return String(UInt32.random(in: 1_000_000...UInt32.max, using: &generator))
    }
}

extension ProvisioningPolicy {
    /// [MS-ASPROV] 2.2.2.27 EASProvisionDoc, elements in the schema's order.
    func document() -> EASElement {
        typealias P = EASTag.Provision
        func flag(_ tag: EASTag, _ value: Bool) -> EASElement { EASElement(tag, text: value ? "1" : "0") }
        var children: [EASElement] = [
            flag(P.devicePasswordEnabled, devicePasswordEnabled),
            flag(P.alphanumericDevicePasswordRequired, alphanumericDevicePasswordRequired),
            flag(P.passwordRecoveryEnabled, false),
            // RequireStorageCardEncryption is left out (absent means not required): libwbxml
            // gives its token another name, so the validators would reject the document.
            flag(P.attachmentsEnabled, attachmentsEnabled),
            EASElement(P.minDevicePasswordLength, text: String(minDevicePasswordLength)),
        ]
        if let lock = maxInactivityTimeDeviceLock { children.append(EASElement(P.maxInactivityTimeDeviceLock, text: String(lock))) }
        if let attempts = maxDevicePasswordFailedAttempts {
            children.append(EASElement(P.maxDevicePasswordFailedAttempts, text: String(attempts)))
        }
        if let size = maxAttachmentSize { children.append(EASElement(P.maxAttachmentSize, text: String(size))) }
        children += [
            flag(P.allowSimpleDevicePassword, allowSimpleDevicePassword),
            flag(P.allowStorageCard, true),
            flag(P.allowCamera, allowCamera),
            flag(P.requireDeviceEncryption, requireDeviceEncryption),
            flag(P.allowUnsignedApplications, true),
            flag(P.allowUnsignedInstallationPackages, true),
            flag(P.allowWiFi, true),
            flag(P.allowTextMessaging, true),
            flag(P.allowPOPIMAPEmail, true),
            flag(P.allowBluetooth, true),
            flag(P.allowIrDA, true),
            flag(P.requireManualSyncWhenRoaming, false),
            flag(P.allowDesktopSync, true),
            flag(P.allowHTMLEmail, allowHTMLEmail),
            flag(P.requireSignedSMIMEMessages, false),
            flag(P.requireEncryptedSMIMEMessages, false),
            flag(P.allowSMIMESoftCerts, true),
            flag(P.allowBrowser, true),
            flag(P.allowConsumerEmail, true),
            flag(P.allowRemoteDesktop, true),
            flag(P.allowInternetSharing, true),
        ]
        return EASElement(P.easProvisionDoc, children: children)
    }
}
