import RefundModel
import Testing

@Suite("Refund state machine")
struct RefundStateTests {
    /// The legal moves, spelled out independently of the table in the model, so a change to either shows up here.
    static let legal: Set<String> = [
        "submitted>needs_evidence", "submitted>manual_review", "submitted>approved", "submitted>rejected",
        "submitted>withdrawn",
        "needs_evidence>submitted", "needs_evidence>rejected", "needs_evidence>withdrawn",
        "manual_review>approved", "manual_review>rejected", "manual_review>needs_evidence", "manual_review>withdrawn",
        "rejected>appealed", "rejected>withdrawn",
        "appealed>approved", "appealed>rejected_final", "appealed>withdrawn",
        "approved>supplier_verification", "approved>processing", "approved>rejected_final",
        "supplier_verification>processing", "supplier_verification>disputed", "supplier_verification>rejected_final",
        "disputed>processing", "disputed>rejected_final",
        "processing>credited", "processing>payout_failed",
        "payout_failed>processing",
    ]

    @Test("every pair of states: legal moves accepted, all others refused")
    func everyPair() throws {
        var accepted = 0
        for from in RefundState.allCases {
            for to in RefundState.allCases {
                let key = "\(from.rawValue)>\(to.rawValue)"
                if Self.legal.contains(key) {
                    #expect(from.canMove(to: to), "\(key) should be legal")
                    #expect(try from.moving(to: to) == to)
                    accepted += 1
                } else {
                    #expect(!from.canMove(to: to), "\(key) should be illegal")
                    #expect(throws: IllegalTransition(from: from, to: to)) { try from.moving(to: to) }
                }
            }
        }
        #expect(accepted == Self.legal.count)
    }

    @Test("money never moves twice: credited, withdrawn and final rejection are terminal")
    func terminals() {
        #expect(RefundState.credited.isTerminal)
        #expect(RefundState.withdrawn.isTerminal)
        #expect(RefundState.rejectedFinal.isTerminal)
        #expect(!RefundState.processing.isTerminal)
        #expect(!RefundState.credited.canMove(to: .processing))
        #expect(!RefundState.submitted.canMove(to: .credited))
        // Written out: intake's one-open-refund-per-line index (migration 100) spells the same three.
        #expect(Set(RefundState.terminal) == [.credited, .withdrawn, .rejectedFinal])
    }

    @Test("the groups of states other code asks about")
    func groups() {
        #expect(RefundState.awaitingReviewer == [.manualReview, .appealed, .disputed])
        // A refund's amount counts against its order from approval until it ends unpaid.
        #expect(Set(RefundState.committed) == [.approved, .supplierVerification, .disputed, .processing, .payoutFailed,
                                               .credited])
        #expect(RefundState.committed.allSatisfy { !RefundState.awaitingReviewer.contains($0) || $0 == .disputed })
    }

    @Test("an appeal is possible once: rejected → appealed → rejected_final, never appealed again")
    func appealOnce() throws {
        let s = try RefundState.rejected.moving(to: .appealed).moving(to: .rejectedFinal)
        #expect(!s.canMove(to: .appealed))
        #expect(!RefundState.appealed.canMove(to: .rejected))
    }

    @Test("money moves only after approval")
    func noPayoutBeforeApproval() {
        for s in [RefundState.submitted, .needsEvidence, .manualReview, .rejected, .appealed] {
            #expect(!s.canMove(to: .processing))
            #expect(!s.canMove(to: .credited))
        }
    }
}
