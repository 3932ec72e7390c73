import Foundation
import RefundModel

/// How much evidence one refund may carry, in all (`EVIDENCE_MAX_ITEMS`, `EVIDENCE_MAX_BYTES`): supplementing is
/// allowed (DOMAIN.md §2), growing a refund without bound is not.
struct EvidenceLimits: Sendable {
    var maxItems = 20
    var maxBytes = 65_536

    /// Throws 422 past the item count, 413 past the size (the JSON of all items, as stored).
    func check(existing json: String, adding items: [EvidenceItem]) throws {
        guard !items.isEmpty else { return }
        let stored = (try? JSONSerialization.jsonObject(with: Data(json.utf8)) as? [Any])?.count ?? 0
        guard stored + items.count <= maxItems else {
            throw APIError.unprocessable("too_many_evidence_items",
                                         "a refund carries at most \(maxItems) evidence items (it has \(stored))")
        }
        let adding = (try? MessageCoding.encoder().encode(items).count) ?? Int.max
        guard json.utf8.count + adding <= maxBytes else {
            throw APIError(.contentTooLarge, "evidence_too_large",
                           "a refund's evidence is at most \(maxBytes) bytes in all")
        }
    }
}
