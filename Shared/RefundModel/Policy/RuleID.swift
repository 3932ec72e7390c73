/// Every rule the pre-check can cite, with a stable id (cited in decisions, timelines and tests) and its source in
/// DOMAIN.md. Renaming an id breaks what buyers and operators already saw: add new ones instead.
public enum RuleID: String, Codable, Sendable, CaseIterable {
    // §1 eligibility: approvals
    case notDelivered = "R-ELIG-NOT-DELIVERED"            // §1 not delivered → full refund (S1, S2, S4)
    case invalidCode = "R-ELIG-INVALID-CODE"              // §1 invalid / cannot activate / expired → full (S1, S4)
    case notAsDescribed = "R-ELIG-NOT-AS-DESCRIBED"       // §1 not as described → full, judged by a human (S0, S1)
    case platformFault = "R-ELIG-PLATFORM-FAULT"          // §1 platform fault → full, advance compensation (S0,S1,S3)
    case coolingOff = "R-ELIG-COOLING-OFF"                // §1 unused inside cooling-off, no-reason product (S0, S2)
    case proRata = "R-AMOUNT-PRO-RATA"                    // §1 partly used top-up → by remaining value (S3)
    case serviceCompletion = "R-AMOUNT-SERVICE-COMPLETION" // §1 service started → (1 − completion) × paid (S3)
    // §1 amounts
    case paidNotList = "R-AMOUNT-PAID-NOT-LIST"           // §1 promotion → actual paid, never list price (S3)
    case giftDeducted = "R-AMOUNT-GIFT-DEDUCTED"          // §1 gift not returned → deducted at its value (S3)
    case refundFee = "R-AMOUNT-REFUND-FEE"                // §1 product with a refund fee → fee % deducted (S0)
    case amountCap = "R-AMOUNT-CAP"                       // §1 per order, refunds never exceed paid
    case nothingRefundable = "R-AMOUNT-NOTHING-LEFT"      // §1 nothing left to refund
    case payoutCap = "R-PAYOUT-CAP"                       // §1 checked again by payout against its own order record
    // §1 rejections
    case consumed = "R-REJECT-CONSUMED"                   // §1 consumed / activated by the buyer (S0, S3, S4)
    case buyerMistake = "R-REJECT-BUYER-MISTAKE"          // §1 wrong account, banned for own conduct (S0, S3, S4)
    case physicalOpened = "R-REJECT-PHYSICAL-OPENED"      // §1 physical: only unopened (S3)
    case physicalCustom = "R-REJECT-PHYSICAL-CUSTOM"      // §1 custom-made goods not refundable (S3)
    case noReasonNotAllowed = "R-REJECT-NO-REASON-NOT-ALLOWED" // §1 no-reason refunds only where the product allows
    case kindMismatch = "R-REJECT-REASON-NOT-FOR-KIND"    // §1 pro-rata is for top-ups, completion for services
    // §1 windows
    case notDeliveredWindow = "R-WINDOW-NOT-DELIVERED"    // §1 within 24 h of promised delivery (S4)
    case defectWindow = "R-WINDOW-DEFECT"                 // §1 defect within 7 days (S4)
    case coolingOffWindow = "R-WINDOW-COOLING-OFF"        // §1 cooling-off 24 h (setting 24-48 h) (S0, S2)
    // §2 evidence
    case evidenceMissing = "R-EVIDENCE-MISSING"           // §2 the exact missing list per kind / reason (S0, S2)
    // §3 review
    case fastRefund = "R-FAST-REFUND"                     // §3 good standing, undelivered, < ¥500 (S4)
    case riskFrequency = "R-RISK-FREQUENCY"               // §3 > 3 applications in 7 days (S0)
    case riskHighAmount = "R-RISK-HIGH-AMOUNT"            // §3 ≥ ¥10,000, longer SLA (S4)
    case riskStanding = "R-RISK-STANDING"                 // §3 not in good standing: abnormal refund history (S4)
    case deliveryDisputed = "R-REVIEW-DELIVERY-DISPUTED"  // §3 ambiguous: claims undelivered, records say delivered
    case appeal = "R-REVIEW-APPEAL"                       // §3 appeal → a different reviewer (S0, S4)
    case reviewerDecision = "R-REVIEW-REVIEWER"           // §3 manual review decided by a reviewer (S0)
    case slaAdvanceCompensation = "R-SLA-ADVANCE-COMPENSATION" // §3 undecided 48 h after complete → platform pays (S0)
}
