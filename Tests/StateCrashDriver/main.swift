// Advances one collection again and again until it is killed, printing each committed
// generation; `StateCrashTests` kills it with SIGKILL at a random moment and checks what is
// left. Generation n gives the device messages (n-1)*100+1 … n*100.
//
//   StateCrashDriver sqlite PATH DEVICE
//   StateCrashDriver postgres URL SCHEMA DEVICE

import Foundation
import SyncState
import SyncStatePostgres
import SyncStateSQL
import SyncStateSQLite

func block(_ number: Int64) -> [MessageUID] {
    (1...100).map { MessageUID((number - 1) * 100 + Int64($0)) }
}

func drive(_ store: any StateStore, device deviceId: String) async throws -> Never {
    let account = try await store.account(named: "crash@airgate.test")
    let inbox = try await store.saveFolder(of: account, mailboxName: "INBOX", uidValidity: 1, type: 2, parentId: nil)
    let device = DeviceRef(account: account, deviceId: deviceId)
    _ = try await store.recordContact(DeviceContact(ref: device, deviceType: "Crash", userAgent: nil,
                                                    protocolVersion: "16.1", at: 0))
    let collection = CollectionRef(device: device, folderId: inbox.folderId)
    var current: CollectionGeneration? = nil
    while true {
        let number = (current?.number ?? 0) + 1
        current = try await store.advanceCollection(collection, from: current?.key ?? .initial,
                                                    expectedCurrent: current?.key,
                                                    to: CollectionAdvance(cursor: number, added: block(number)))
        // Unbuffered, so that what was committed is reported before the kill can come.
        FileHandle.standardOutput.write(Data("committed \(current!.number) \(current!.key.rawValue)\n".utf8))
    }
}

let arguments = CommandLine.arguments
switch (arguments.count, arguments.count > 1 ? arguments[1] : "") {
case (4, "sqlite"):
    try await drive(try await SQLiteStateStore.open(path: arguments[2]), device: arguments[3])
case (5, "postgres"):
    let store = PostgresStateStore(configuration: try PostgresDatabase.configuration(
        url: arguments[2], startupParameters: [("search_path", arguments[3])]), channel: "airgate_\(arguments[3])")
    try await store.withRunning { try await drive($0, device: arguments[4]) }
default:
    FileHandle.standardError.write(Data("usage: StateCrashDriver sqlite PATH DEVICE | postgres URL SCHEMA DEVICE\n".utf8))
    exit(2)
}
