import Foundation

/// Why a step happened, as data: a code and its parameters, rendered in the reader's language by `Phrasebook`
/// (issue 17 §3). Stages publish this beside the English `explanation` text (kept for logs, the reviewer's view and
/// consumers that predate codes); notification and the buyer's API render the code, never the English text.
///
/// The code travels as a string so that a consumer older than its producer still decodes the message: a code it does
/// not know renders as the English text that came with it.
public struct Explanation: Codable, Sendable, Equatable {
    public var code: String
    public var params: [String: String]

    public init(_ code: Code, _ params: [String: String] = [:]) {
        self.code = code.rawValue
        self.params = params
    }

    /// Words written by a person (a reviewer's reason, a buyer's note): shown as written, in every language.
    public static func text(_ words: String) -> Explanation { Explanation(.personText, ["text": words]) }

    public var known: Code? { Code(rawValue: code) }

    /// Every reason a stage gives. Parameters are named in the comment; `channel` is a `PaymentChannel` raw value,
    /// `at` an ISO 8601 time, `amount` fen with `currency`, `missing` evidence kinds joined by commas.
    public enum Code: String, Codable, Sendable, CaseIterable {
        // Written by a person: `text`.
        case personText = "person_text"
        // Pre-check (auto-review, PreCheck).
        case customMade = "custom_made"
        case physicalOpened = "physical_opened"
        case buyerMistake = "buyer_mistake"
        case consumedByBuyer = "consumed_by_buyer"
        case proRataTopUpOnly = "pro_rata_top_up_only"
        case completionServicesOnly = "completion_services_only"
        case notDeliveredWindowPassed = "not_delivered_window_passed"
        case defectWindowPassed = "defect_window_passed"
        case noReasonNotOffered = "no_reason_not_offered"
        case noReasonUnusedOnly = "no_reason_unused_only"
        case coolingOffPassed = "cooling_off_passed"
        case noUsageRecords = "no_usage_records"
        case nothingLeft = "nothing_left"
        /// `missing`
        case evidenceMissing = "evidence_missing"
        /// `max`
        case riskFrequency = "risk_frequency"
        case riskHighAmount = "risk_high_amount"
        case platformFault = "platform_fault"
        case deliveryDisputed = "delivery_disputed"
        case abnormalHistory = "abnormal_history"
        case fastRefund = "fast_refund"
        case notDeliveredFull = "not_delivered_full"
        case notAsDescribed = "not_as_described"
        /// `rule`
        case eligibleByRule = "eligible_by_rule"
        // Review (auto-review).
        case reviewSLABreached = "review_sla_breached"
        case withdrawnByBuyer = "withdrawn_by_buyer"
        case evidenceSupplemented = "evidence_supplemented"
        case appealedToAnotherReviewer = "appealed_to_another_reviewer"
        case approvedByReviewer = "approved_by_reviewer"
        case appealApproved = "appeal_approved"
        case rejectedByReviewer = "rejected_by_reviewer"
        case reviewerAsksEvidence = "reviewer_asks_evidence"
        /// intake's record of a reviewer's action: `kind` (approve, reject, ask_evidence)
        case reviewerDecided = "reviewer_decided"
        // Supplier verification.
        case askingSupplier = "asking_supplier"
        case supplierSilent = "supplier_silent"
        case supplierConfirmed = "supplier_confirmed"
        case supplierNoRecord = "supplier_no_record"
        /// `percent`, `amount`, `currency`
        case supplierPartial = "supplier_partial"
        case supplierUsedDisputed = "supplier_used_disputed"
        /// `at` (optional)
        case supplierUsedLog = "supplier_used_log"
        case arbitrationForBuyer = "arbitration_for_buyer"
        case arbitrationFoundUsed = "arbitration_found_used"
        // Payout.
        /// `channel`, `at` when the channel pays in a daily batch
        case sentBack = "sent_back"
        case toBalance = "to_balance"
        case creditedToBalance = "credited_to_balance"
        /// `channel`
        case channelSucceeded = "channel_succeeded"
        /// `channel`
        case channelConfirmedLate = "channel_confirmed_late"
        case accountCannotReceive = "account_cannot_receive"
        /// `channel`
        case channelRefused = "channel_refused"
        case lateBankClearing = "late_bank_clearing"
        /// `channel`
        case lateChannelUnconfirmed = "late_channel_unconfirmed"
        case choseBalance = "chose_balance"
        /// `channel`, `account` (masked), `at` when the channel pays in a daily batch
        case choseAccount = "chose_account"
        /// intake's record of the buyer's choice (`fallbackToAccount`: `channel`, `account` masked)
        case fallbackToBalance = "fallback_to_balance"
        case fallbackToAccount = "fallback_to_account"
        case otherBuyersOrder = "other_buyers_order"
        /// `line`
        case noSuchLine = "no_such_line"
        /// `currency`, `orderCurrency`
        case currencyMismatch = "currency_mismatch"
        /// `scope` (line or order), `already`, `more`, `paid` (fen)
        case overRefund = "over_refund"
        // Intake.
        case applicationReceived = "application_received"
        /// `state`, `at` (since when)
        case stuckAlerted = "stuck_alerted"
        /// `text` (the buyer's words)
        case ticketOpened = "ticket_opened"
    }

    /// The English sentence, for the `explanation` text that travels beside the code.
    public var english: String { Phrasebook.render(self, .en) }
}
