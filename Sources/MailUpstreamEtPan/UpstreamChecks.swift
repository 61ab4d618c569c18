/// Checks that a domain's submission and ManageSieve servers answer (for `airgate domains
/// check`): the same connection set-up as real use, TLS verification included, then goodbye.
extension IMAPAdapter {
    /// Connects to a submission server, says EHLO, upgrades with STARTTLS where the endpoint
    /// says so, and logs in when credentials are given.
    public func checkSubmission(_ endpoint: ServerEndpoint, credentials: SMTPCredentials = .none) async throws {
        try await run {
            let connection = try SMTPConnection.open(endpoint, credentials)
            connection.close()
        }
    }

    /// Connects to a ManageSieve server, upgrades with STARTTLS where the endpoint says so, and
    /// logs in when a user is given.
    public func checkManageSieve(_ endpoint: ServerEndpoint, user: String? = nil, password: String = "") async throws {
        try await run {
            let connection = if let user {
                try ManageSieveConnection.open(endpoint, user: user, password: password)
            } else {
                try ManageSieveConnection.connect(endpoint)
            }
            connection.close()
        }
    }
}
