import Clinical

/// A condition or date expression from a rule file, as a tree.
///
/// The vocabulary is the business rules': field names (`BP_DAT`, `HYPLAT_DAT`), their values
/// (`BP_DAT.value`, `.value2`, `.code`), built-ins (`PAT_AGE`, `REG_DAT`, `PAT_SEX`), key dates
/// (`PPED`, `PPSD`, `ACHV_DAT`, and any the rule file names under `dates:`, e.g. `ADULT_START`), registers (`HYP_REG`), date arithmetic (`PPED - 12 months`,
/// `HYPINVITE1_DAT + 7 days`), comparisons, `is null`, `in CLUSTER`, `and`, `or`, `not`.
indirect enum Expression: Sendable, Hashable {
    case number(Double)
    case date(Day)
    case string(String)
    case null
    case boolean(Bool)
    /// A name: field, register, built-in or key date, optionally with a member (`value`, `value2`, `code`).
    case reference(String, member: String?)
    case shift(Expression, amount: Int, unit: DateUnit)
    case compare(Expression, Comparison, Expression)
    case isNull(Expression, negated: Bool)
    case inCluster(Expression, cluster: String)
    case and(Expression, Expression)
    case or(Expression, Expression)
    case not(Expression)

    enum DateUnit: String, Sendable { case days, months, years }
    enum Comparison: String, Sendable { case lt = "<", le = "<=", gt = ">", ge = ">=", eq = "=", ne = "!=" }

    /// Every name the expression refers to (fields, registers, built-ins, key dates).
    var references: Set<String> {
        switch self {
        case .number, .date, .string, .null, .boolean: return []
        case .reference(let name, _): return [name]
        case .shift(let e, _, _), .isNull(let e, _), .not(let e): return e.references
        case .inCluster(let e, _): return e.references
        case .compare(let a, _, let b), .and(let a, let b), .or(let a, let b): return a.references.union(b.references)
        }
    }

    /// Clusters named by `in CLUSTER`.
    var clusters: Set<String> {
        switch self {
        case .inCluster(let e, let c): return e.clusters.union([c])
        case .shift(let e, _, _), .isNull(let e, _), .not(let e): return e.clusters
        case .compare(let a, _, let b), .and(let a, let b), .or(let a, let b): return a.clusters.union(b.clusters)
        default: return []
        }
    }
}

/// Why an expression could not be parsed, and where in its text.
struct ExpressionError: Error, Sendable {
    let message: String
    let offset: Int
}

/// A recursive-descent parser for rule expressions.
struct ExpressionParser {
    private enum Token: Equatable {
        case number(Double), date(Day), string(String), word(String), symbol(String), end
    }

    private var tokens: [(Token, Int)] = []
    private var index = 0

    static func parse(_ text: String) throws -> Expression {
        var parser = ExpressionParser()
        try parser.tokenize(Array(text.unicodeScalars))
        let e = try parser.expression()
        guard parser.peek == .end else { throw parser.error("unexpected text after the end of the expression") }
        return e
    }

    private var peek: Token { tokens[index].0 }
    private func error(_ message: String) -> ExpressionError { ExpressionError(message: message, offset: tokens[index].1) }

    private mutating func advance() -> Token {
        let t = tokens[index].0
        if index < tokens.count - 1 { index += 1 }
        return t
    }

    private mutating func tokenize(_ s: [Unicode.Scalar]) throws {
        var i = 0
        func isDigit(_ c: Unicode.Scalar) -> Bool { c >= "0" && c <= "9" }
        func isWord(_ c: Unicode.Scalar) -> Bool {
            (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || isDigit(c) || c == "_" || c == "-"
        }
        while i < s.count {
            let c = s[i]
            if c == " " || c == "\t" || c == "\n" { i += 1; continue }
            let start = i
            if isDigit(c) {
                // A date (YYYY-MM-DD) or a number.
                if i + 10 <= s.count, s[i + 4] == "-", s[i + 7] == "-",
                    let day = Day(iso: String(String.UnicodeScalarView(s[i..<i + 10])))
                {
                    tokens.append((.date(day), start))
                    i += 10
                    continue
                }
                while i < s.count, isDigit(s[i]) || s[i] == "." { i += 1 }
                guard let v = Double(String(String.UnicodeScalarView(s[start..<i]))) else {
                    throw ExpressionError(message: "not a number", offset: start)
                }
                tokens.append((.number(v), start))
            } else if (c >= "a" && c <= "z") || (c >= "A" && c <= "Z") || c == "_" {
                while i < s.count, isWord(s[i]) && !(s[i] == "-" && (i + 1 >= s.count || s[i + 1] == " ")) { i += 1 }
                tokens.append((.word(String(String.UnicodeScalarView(s[start..<i]))), start))
            } else if c == "'" || c == "\"" {
                i += 1
                while i < s.count, s[i] != c { i += 1 }
                guard i < s.count else { throw ExpressionError(message: "unterminated string", offset: start) }
                tokens.append((.string(String(String.UnicodeScalarView(s[start + 1..<i]))), start))
                i += 1
            } else {
                let two = i + 1 < s.count ? String(String.UnicodeScalarView([c, s[i + 1]])) : ""
                if ["<=", ">=", "!=", "<>", "=="].contains(two) {
                    tokens.append((.symbol(two == "<>" ? "!=" : two == "==" ? "=" : two), start))
                    i += 2
                } else if "<>=+-().".unicodeScalars.contains(c) {
                    tokens.append((.symbol(String(c)), start))
                    i += 1
                } else {
                    throw ExpressionError(message: "unexpected character '\(c)'", offset: start)
                }
            }
        }
        tokens.append((.end, s.count))
    }

    private mutating func expression() throws -> Expression { try orExpression() }

    private mutating func orExpression() throws -> Expression {
        var left = try andExpression()
        while peek == .word("or") || peek == .word("OR") {
            _ = advance()
            left = .or(left, try andExpression())
        }
        return left
    }

    private mutating func andExpression() throws -> Expression {
        var left = try notExpression()
        while peek == .word("and") || peek == .word("AND") {
            _ = advance()
            left = .and(left, try notExpression())
        }
        return left
    }

    private mutating func notExpression() throws -> Expression {
        if peek == .word("not") || peek == .word("NOT") {
            _ = advance()
            return .not(try notExpression())
        }
        return try comparison()
    }

    private mutating func comparison() throws -> Expression {
        let left = try sum()
        switch peek {
        case .symbol(let op) where ["<", "<=", ">", ">=", "=", "!="].contains(op):
            _ = advance()
            return .compare(left, Expression.Comparison(rawValue: op)!, try sum())
        case .word("is"):
            _ = advance()
            var negated = false
            if peek == .word("not") { _ = advance(); negated = true }
            guard advance() == .word("null") else { throw error("expected 'null' after 'is'") }
            return .isNull(left, negated: negated)
        case .word("in"):
            _ = advance()
            guard case .word(let cluster) = advance() else { throw error("expected a cluster name after 'in'") }
            return .inCluster(left, cluster: cluster)
        default:
            return left
        }
    }

    private mutating func sum() throws -> Expression {
        var left = try primary()
        while case .symbol(let op) = peek, op == "+" || op == "-" {
            _ = advance()
            guard case .number(let n) = advance(), n == n.rounded() else { throw error("expected a whole number of days, months or years") }
            guard case .word(let unitWord) = advance() else { throw error("expected days, months or years") }
            let unit: Expression.DateUnit
            switch unitWord.lowercased() {
            case "day", "days": unit = .days
            case "month", "months": unit = .months
            case "year", "years": unit = .years
            default: throw error("expected days, months or years, not '\(unitWord)'")
            }
            guard n == n.rounded(), abs(n) <= 100_000 else { throw error("a date shift must be a whole number up to 100000") }
            left = .shift(left, amount: (op == "-" ? -1 : 1) * Int(n), unit: unit)
        }
        return left
    }

    private mutating func primary() throws -> Expression {
        switch advance() {
        case .number(let v): return .number(v)
        case .date(let d): return .date(d)
        case .string(let s): return .string(s)
        case .word("null"): return .null
        case .word("true"): return .boolean(true)
        case .word("false"): return .boolean(false)
        case .word(let name):
            if peek == .symbol(".") {
                _ = advance()
                guard case .word(let member) = advance(), ["value", "value2", "code", "date"].contains(member) else {
                    throw error("expected value, value2, code or date after '.'")
                }
                return .reference(name, member: member)
            }
            return .reference(name, member: nil)
        case .symbol("("):
            let e = try expression()
            guard advance() == .symbol(")") else { throw error("expected ')'") }
            return e
        default:
            throw error("expected a value, a name or '('")
        }
    }
}

extension Expression: CustomStringConvertible {
    var description: String {
        switch self {
        case .number(let v): return v == v.rounded() ? String(Int(v)) : String(v)
        case .date(let d): return d.description
        case .string(let s): return "'\(s)'"
        case .null: return "null"
        case .boolean(let b): return b ? "true" : "false"
        case .reference(let n, let m): return m.map { "\(n).\($0)" } ?? n
        case .shift(let e, let amount, let unit): return "\(e) \(amount < 0 ? "-" : "+") \(abs(amount)) \(unit.rawValue)"
        case .compare(let a, let op, let b): return "\(a) \(op.rawValue) \(b)"
        case .isNull(let e, let negated): return "\(e) is \(negated ? "not " : "")null"
        case .inCluster(let e, let c): return "\(e) in \(c)"
        case .and(let a, let b): return "(\(a) and \(b))"
        case .or(let a, let b): return "(\(a) or \(b))"
        case .not(let e): return "not \(e)"
        }
    }
}
