import Foundation

/// The SQL files beside this one, as the state stores apply them.
public enum SchemaMigrations {
    /// Which schema dialect.
    public enum Backend: String, Sendable {
        case postgres
        case sqlite
    }

    /// One numbered migration file, split into statements.
    public struct File: Sendable, Hashable {
        public var version: Int
        public var name: String
        public var statements: [String]
    }

    /// The migration files for `backend`, in version order.
    public static func files(for backend: Backend) throws -> [File] {
        guard let directory = Bundle.module.url(forResource: backend.rawValue, withExtension: nil) else {
            throw CocoaError(.fileNoSuchFile)
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".sql") }.sorted()
        return try names.map { name in
            guard let version = Int(name.prefix { $0.isNumber }) else { throw CocoaError(.fileReadCorruptFile) }
            let text = try String(contentsOf: directory.appendingPathComponent(name), encoding: .utf8)
            return File(version: version, name: name, statements: statements(in: text))
        }
    }

    /// Splits a file into statements: each ends with `;` at the end of a line (the rule the
    /// files follow, see README.md). Comment lines are dropped.
    static func statements(in text: String) -> [String] {
        var statements: [String] = []
        var current: [Substring] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("--") { continue }
            current.append(line)
            if trimmed.hasSuffix(";") {
                statements.append(current.joined(separator: "\n"))
                current = []
            }
        }
        return statements
    }
}
