import ArgumentParser

@main
struct Airgate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "airgate",
        abstract: "An Exchange ActiveSync gateway for IMAP/SMTP mail servers.",
        subcommands: [ServeCommand.self, DevicesCommand.self, MigrateCommand.self, WBXMLCommand.self, ProbeCommand.self,
                      DomainsCommand.self]
    )
}
