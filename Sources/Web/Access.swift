import Storage

/// Who is looking, and what they may see. A practice user sees their practice; a PCN lead the
/// practices that are members of their PCN; a commissioner every practice. Patient-identifiable
/// pages need `patientAccess` on top of that.
public struct Viewer: Sendable {
    public var user: WebAccounts.User
    /// The session's CSRF token, written into every form.
    public var csrfToken: String
    /// The practices this viewer may open (nil: all of them).
    public var practices: Set<String>?

    /// May this viewer open the practice's pages at all?
    public func mayView(practice ods: String) -> Bool { practices.map { $0.contains(ods) } ?? true }

    /// May this viewer open the PCN's page?
    public func mayView(pcn ods: String) -> Bool {
        switch user.role {
        case .commissioner: return true
        case .pcn: return user.scope == ods
        case .practice: return false
        }
    }

    /// May this viewer see the patients behind a practice's figures?
    public func mayViewPatients(of ods: String) -> Bool { user.patientAccess && mayView(practice: ods) }

    /// May this viewer declare the practice's achievement? A practice account with the declare right, for its own practice.
    public func mayDeclare(practice ods: String) -> Bool { user.right == .declare && user.role == .practice && user.scope == ods }

    /// May this viewer approve or return the practice's declaration? A commissioner with the approve right.
    public func mayApprove(practice ods: String) -> Bool { user.right == .approve && user.role == .commissioner && mayView(practice: ods) }

    /// May this viewer declare the PCN's Network Contract DES achievement? The PCN's nominated person: a PCN lead
    /// account with the declare right, for its own PCN.
    public func mayDeclare(pcn ods: String) -> Bool { user.right == .declare && user.role == .pcn && user.scope == ods }

    /// May this viewer approve or return the PCN's declaration? A commissioner with the approve right.
    public func mayApprove(pcn ods: String) -> Bool { user.right == .approve && user.role == .commissioner }

    /// Small-number suppression applies to anything shown beyond the practice itself.
    public func seesBeyondPractice(_ ods: String) -> Bool { !(user.role == .practice && user.scope == ods) }
}

/// Statistical disclosure control for figures shown beyond the practice: counts of 1 to 7 are
/// suppressed, and others are rounded to the nearest 5.
public enum Suppression {
    /// The count as it may be shown, or nil when suppressed.
    public static func shown(_ n: Int) -> Int? {
        if n == 0 { return 0 }
        if n <= 7 { return nil }
        return Int((Double(n) / 5).rounded()) * 5
    }

    /// A percentage from shown counts (nil when either count is suppressed or the denominator is 0).
    public static func percent(_ numerator: Int, of denominator: Int) -> Double? {
        guard let n = shown(numerator), let d = shown(denominator), d > 0 else { return nil }
        return min(100, 100 * Double(n) / Double(d))
    }
}
