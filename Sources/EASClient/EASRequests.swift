import EASProtocol

/// Request bodies every client sends the same way: the tests' device, the client profiles
/// and `airgate probe` build them here.
public enum EASRequests {
    typealias P = EASTag.Provision
    typealias FH = EASTag.FolderHierarchy
    typealias PG = EASTag.Ping

    /// [MS-ASPROV] 3.1.5.1: the request for the policy, or (with the temporary key) its
    /// acknowledgement.
    public static func provision(acknowledging key: String? = nil) -> EASElement {
        var policy = [EASElement(P.policyType, text: "MS-EAS-Provisioning-WBXML")]
        if let key { policy += [EASElement(P.policyKey, text: key), EASElement(P.status, text: "1")] }
        return EASElement(P.provision, children: [EASElement(P.policies, children: [EASElement(P.policy, children: policy)])])
    }

    /// The policy key of a Provision answer, if it has one.
    public static func policyKey(in answer: EASElement?) -> String? {
        answer?.child(P.policies)?.child(P.policy)?.child(P.policyKey)?.text
    }

    public static func folderSync(key: String) -> EASElement {
        EASElement(FH.folderSync, children: [EASElement(FH.syncKey, text: key)])
    }

    /// A Ping on mail folders.
    public static func ping(folders: [String], heartbeat: Int) -> EASElement {
        EASElement(PG.ping, children: [
            EASElement(PG.heartbeatInterval, text: String(heartbeat)),
            EASElement(PG.folders, children: folders.map { id in
                EASElement(PG.folder, children: [EASElement(PG.id, text: id), EASElement(PG.class, text: "Email")])
            }),
        ])
    }
}
