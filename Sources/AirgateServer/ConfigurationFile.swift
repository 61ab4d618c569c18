/// The configuration file: a small subset of TOML ([toml.io] v1.0) — `[section]` headers, `key =
/// value` with basic strings ("…" with \" \\ \n \t escapes), literal strings ('…'), integers,
/// booleans and one-line arrays of those, `#` comments. Values are kept by their dotted path
/// (`imap.host`) with the line they came from, for error messages. A path segment may be quoted
/// (`[domain."example.org".imap]`) so that it can hold dots; it stays quoted in the path.
public struct ConfigurationFile: Sendable {
    public enum Value: Sendable, Equatable, CustomStringConvertible {
        case string(String)
        case integer(Int)
        case boolean(Bool)
        case array([Value])

        public var description: String {
            switch self {
            case .string(let text): "\"\(text)\""
            case .integer(let number): String(number)
            case .boolean(let flag): String(flag)
            case .array(let values): "[" + values.map(\.description).joined(separator: ", ") + "]"
            }
        }
    }

    public struct Entry: Sendable, Equatable {
        public var value: Value
        /// Where it was set: `file:line`, or the environment variable's name.
        public var origin: String
    }

    public struct Failure: Error, CustomStringConvertible, Equatable {
        public var description: String
    }

    public private(set) var entries: [String: Entry] = [:]

    public init() {}

    /// Largest file read.
    public static let maxBytes = 1 << 20

    public init(text: String, name: String) throws(Failure) {
        guard text.utf8.count <= Self.maxBytes else { throw Failure(description: "\(name): larger than 1 MB") }
        var section = ""
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let origin = "\(name):\(index + 1)"
            let line = Self.withoutComment(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine)
                .trimmingCharacters(in: " \t")
            if line.isEmpty { continue }
            if line.hasPrefix("[") {
                guard line.hasSuffix("]"), !line.hasPrefix("[["), line.count > 2 else {
                    throw Failure(description: "\(origin): a section header is [name]")
                }
                let name = String(line.dropFirst().dropLast())
                guard let path = Self.keyPath(name) else { throw Failure(description: "\(origin): bad section name \(name)") }
                section = path
                continue
            }
            guard let equals = line.firstIndex(of: "=") else {
                throw Failure(description: "\(origin): expected key = value")
            }
            // A quoted key segment may hold "=": the key ends at the first "=" outside quotes.
            let keyEnd = Self.firstUnquoted("=", in: line) ?? equals
            let keyText = String(line[..<keyEnd])
            guard let key = Self.keyPath(keyText) else { throw Failure(description: "\(origin): bad key \(keyText)") }
            let path = section.isEmpty ? key : section + "." + key
            guard entries[path] == nil else { throw Failure(description: "\(origin): \(path) is set twice") }
            var rest = Substring(String(line[line.index(after: keyEnd)...]).trimmingCharacters(in: " \t"))
            let value = try Self.value(&rest, origin)
            guard rest.trimmingCharacters(in: " \t").isEmpty else {
                throw Failure(description: "\(origin): unexpected text after the value of \(path)")
            }
            entries[path] = Entry(value: value, origin: origin)
        }
    }

    /// Sets (or replaces) one value, e.g. from the environment or the command line.
    public mutating func set(_ path: String, _ value: Value, origin: String) {
        entries[path] = Entry(value: value, origin: origin)
    }

    /// Forgets the store choice (`store.sqlite` and `store.postgres`), for a later source that
    /// names the other kind.
    public mutating func removeStore() {
        entries["store.sqlite"] = nil
        entries["store.postgres"] = nil
    }

    /// `AIRGATE_IMAP_HOST=…` overrides `imap.host`: the variable's name is AIRGATE_ and the
    /// path upper-cased with dots as underscores. Only paths in `known` are taken; values are
    /// read as the type the key has (numbers, true/false, comma-separated lists).
    public mutating func applyEnvironment(_ environment: [String: String], known: [String: ConfigurationKind]) throws(Failure) {
        for (path, kind) in known {
            let name = "AIRGATE_" + path.uppercased().replacing(".", with: "_")
            guard let text = environment[name] else { continue }
            let value: Value
            switch kind {
            case .string: value = .string(text)
            case .integer:
                guard let number = Int(text) else { throw Failure(description: "\(name): not a number: \(text)") }
                value = .integer(number)
            case .boolean:
                guard let flag = ["true": true, "false": false, "1": true, "0": false][text.lowercased()] else {
                    throw Failure(description: "\(name): true or false, not \(text)")
                }
                value = .boolean(flag)
            case .strings:
                value = .array(text.split(separator: ",").map { .string($0.trimmingCharacters(in: " ")) })
            }
            set(path, value, origin: name)
        }
    }

    // MARK: - Reading values

    static func withoutComment(_ line: Substring) -> Substring {
        var quote: Character?
        var escaped = false
        for index in line.indices {
            let character = line[index]
            if let open = quote {
                if escaped { escaped = false } else if character == "\\" && open == "\"" { escaped = true } else if character == open { quote = nil }
            } else if character == "\"" || character == "'" {
                quote = character
            } else if character == "#" {
                return line[..<index]
            }
        }
        return line
    }

    /// A dotted path with spaces around the dots removed, or nil: bare segments are letters,
    /// digits, `_` and `-`; quoted ones ("…", no escapes) anything printable but quotes.
    static func keyPath(_ text: String) -> String? {
        var segments: [String] = []
        var rest = Substring(text.trimmingCharacters(in: " \t"))
        while true {
            if rest.first == "\"" {
                let body = rest.dropFirst()
                guard let close = body.firstIndex(of: "\""), close > body.startIndex,
                      !body[..<close].contains(where: { $0 == "\\" || ($0.asciiValue ?? 32) < 32 })
                else { return nil }
                segments.append("\"" + body[..<close] + "\"")
                rest = body[body.index(after: close)...]
            } else {
                let bare = rest.prefix { character in
                    character.unicodeScalars.allSatisfy {
                        ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "_" || $0 == "-"
                    }
                }
                guard !bare.isEmpty else { return nil }
                segments.append(String(bare))
                rest = rest.dropFirst(bare.count)
            }
            rest = rest.drop { $0 == " " || $0 == "\t" }
            if rest.isEmpty { return segments.joined(separator: ".") }
            guard rest.first == "." else { return nil }
            rest = rest.dropFirst().drop { $0 == " " || $0 == "\t" }
        }
    }

    /// The first `character` outside a quoted key segment.
    static func firstUnquoted(_ character: Character, in line: String) -> String.Index? {
        var quoted = false
        for index in line.indices {
            if line[index] == "\"" { quoted.toggle() } else if line[index] == character, !quoted { return index }
        }
        return nil
    }

    static func value(_ text: inout Substring, _ origin: String) throws(Failure) -> Value {
        guard let first = text.first else { throw Failure(description: "\(origin): a value is missing") }
        switch first {
        case "\"":
            text = text.dropFirst()
            var out = ""
            while let character = text.first {
                text = text.dropFirst()
                if character == "\"" { return .string(out) }
                if character == "\\" {
                    guard let escape = text.first else { break }
                    text = text.dropFirst()
                    switch escape {
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    case "n": out.append("\n")
                    case "t": out.append("\t")
                    default: throw Failure(description: "\(origin): unknown escape \\\(escape)")
                    }
                } else {
                    out.append(character)
                }
            }
            throw Failure(description: "\(origin): a string is not closed")
        case "'":
            text = text.dropFirst()
            guard let close = text.firstIndex(of: "'") else { throw Failure(description: "\(origin): a string is not closed") }
            defer { text = text[text.index(after: close)...] }
            return .string(String(text[..<close]))
        case "[":
            text = text.dropFirst()
            var values: [Value] = []
            while true {
                text = text.drop { $0 == " " || $0 == "\t" }
                if text.first == "]" {
                    text = text.dropFirst()
                    return .array(values)
                }
                values.append(try value(&text, origin))
                text = text.drop { $0 == " " || $0 == "\t" }
                if text.first == "," { text = text.dropFirst() } else if text.first != "]" {
                    throw Failure(description: "\(origin): an array is not closed (arrays are on one line)")
                }
            }
        default:
            let word = text.prefix { $0 != "," && $0 != "]" && $0 != " " && $0 != "\t" }
            text = text.dropFirst(word.count)
            if word == "true" { return .boolean(true) }
            if word == "false" { return .boolean(false) }
            if let number = Int(word.replacing("_", with: "")) { return .integer(number) }
            throw Failure(description: "\(origin): \(word) is not a value (strings need quotes)")
        }
    }
}

/// The type a configuration key takes.
public enum ConfigurationKind: Sendable {
    case string, integer, boolean, strings
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmingCharacters(in characters: String) -> String {
        let set = Set(characters)
        guard let start = firstIndex(where: { !set.contains($0) }), let end = lastIndex(where: { !set.contains($0) }) else {
            return ""
        }
        return String(self[start...end])
    }
}
