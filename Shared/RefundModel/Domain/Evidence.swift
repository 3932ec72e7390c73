/// Why the buyer wants money back (DOMAIN.md §1).
public enum RefundReason: String, Codable, Sendable, CaseIterable {
    case notDelivered = "not_delivered"
    /// Card code invalid, cannot activate, or expired before delivery.
    case invalidCode = "invalid_code"
    case notAsDescribed = "not_as_described"
    /// System error, double charge, paid but not credited.
    case platformFault = "platform_fault"
    /// Unused, inside the cooling-off window, product allows no-reason refunds.
    case noReason = "no_reason"
    /// Part of a top-up balance consumed.
    case partlyUsed = "partly_used"
    /// A custom service or boosting started but not finished.
    case serviceIncomplete = "service_incomplete"
    /// The buyer topped up the wrong account.
    case wrongAccount = "wrong_account"
    /// The buyer's account was banned for the buyer's own conduct.
    case accountBanned = "account_banned"
}

/// A piece of evidence an application can carry (DOMAIN.md §2).
public enum EvidenceKind: String, Codable, Sendable, CaseIterable {
    case orderNumber = "order_number"
    case activationFailureLog = "activation_failure_log"
    case unusedProof = "unused_proof"
    case loginScreenshot = "login_screenshot"
    case usageRecord = "usage_record"
    case packagePhoto = "package_photo"
    case trackingNumber = "tracking_number"
    case orderPage = "order_page"
    case deliveryStatus = "delivery_status"
    case paymentStatement = "payment_statement"
    case productPage = "product_page"
    case differenceProof = "difference_proof"
    /// Anything else the buyer wants to add (a note, a chat log): never required, never enough alone.
    case other
}

/// One requirement: any one of `anyOf` satisfies it ("activation-failure log or proof the code is unused").
public struct EvidenceRequirement: Codable, Sendable, Equatable, Hashable {
    public let anyOf: [EvidenceKind]
    public init(_ anyOf: EvidenceKind...) { self.anyOf = anyOf }

    public func isMet(by provided: Set<EvidenceKind>) -> Bool { anyOf.contains { provided.contains($0) } }

    /// "activation_failure_log|unused_proof": how the missing list names it.
    public var name: String { anyOf.map(\.rawValue).joined(separator: "|") }
}

/// What an application must carry, by reason first (the reason's own proof) then by product kind (DOMAIN.md §2).
public enum EvidencePolicy {
    public static func required(kind: ProductKind, reason: RefundReason) -> [EvidenceRequirement] {
        switch reason {
        case .notDelivered: return [EvidenceRequirement(.orderPage), EvidenceRequirement(.deliveryStatus)]
        // DOMAIN.md §2: none from the buyer (the platform checks its own payment records); an attached payment
        // statement is kept and shown to the reviewer like any evidence.
        case .platformFault: return []
        case .notAsDescribed: return [EvidenceRequirement(.productPage), EvidenceRequirement(.differenceProof)]
        case .wrongAccount, .accountBanned: return []
        case .invalidCode, .noReason, .partlyUsed, .serviceIncomplete: return byKind(kind)
        }
    }

    static func byKind(_ kind: ProductKind) -> [EvidenceRequirement] {
        switch kind {
        case .cardCode:
            return [EvidenceRequirement(.orderNumber), EvidenceRequirement(.activationFailureLog, .unusedProof)]
        case .service, .licence, .membership, .topUp:
            return [EvidenceRequirement(.loginScreenshot), EvidenceRequirement(.orderNumber),
                    EvidenceRequirement(.usageRecord)]
        case .physical:
            return [EvidenceRequirement(.packagePhoto), EvidenceRequirement(.trackingNumber)]
        }
    }

    /// The exact list of what is missing, in the order the requirements are listed.
    public static func missing(kind: ProductKind, reason: RefundReason, provided: Set<EvidenceKind>) -> [String] {
        required(kind: kind, reason: reason).filter { !$0.isMet(by: provided) }.map(\.name)
    }
}
