import RefundModel
import StageRuntime

/// Supplier verification's settings (DOMAIN.md §4).
struct VerificationSettings: Sendable {
    /// Product kinds the supplier must verify before money moves; others pass straight on.
    var kindsToVerify: Set<ProductKind>
    /// How long a supplier has to answer (24 h by default); silence is decided in the buyer's favour.
    var answerWithin: Double
    /// Suppliers whose request queues this service declares at start (each also needs its AMQP user).
    var supplierIds: [String]

    init(_ env: SettingsSource) throws {
        let raw = try env.string("VERIFY_KINDS", default: "card_code,top_up,membership,licence,service")
        var kinds = Set<ProductKind>()
        for k in raw.split(separator: ",") {
            guard let kind = ProductKind(rawValue: String(k)) else {
                throw ConfigurationError(setting: "VERIFY_KINDS", problem: "unknown product kind \(k)")
            }
            kinds.insert(kind)
        }
        kindsToVerify = kinds
        answerWithin = try env.seconds("SUPPLIER_ANSWER_SECONDS", default: 24 * 3600)
        supplierIds = try env.string("SUPPLIER_IDS", default: "").split(separator: ",").map(String.init)
        for id in supplierIds where !id.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }) {
            throw ConfigurationError(setting: "SUPPLIER_IDS", problem: "supplier ids are letters, digits and dashes")
        }
    }
}
