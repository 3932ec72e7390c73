# shellcheck shell=bash
# The demo's identities and outside world, in one place for scripts/run and scripts/containers (sourced, not run).
# Local only: a marketplace wires its own identity provider and its suppliers' real systems.

# A new demo buyer each start, so earlier demo refunds never count against it in the risk rules; refund-demo uses
# buyers $DEMO_BUYER-1..10 with the tokens $DEMO_BUYER_TOKEN-1..10 (8 is left for trying by hand).
DEMO_BUYER="demo-buyer-$(date +%s)"
DEMO_BUYER_TOKEN=demo-buyer-token-local-only
DEMO_REVIEWER_TOKEN=demo-reviewer-token-local-only
# intake keeps only each token's SHA-256 digest (scripts/issue-token makes real ones).
demo_digest() { printf '%s' "$1" | sha256sum | cut -d' ' -f1; }
DEMO_TOKENS="sha256:$(demo_digest "$DEMO_REVIEWER_TOKEN")=reviewer:demo-reviewer"
for n in 1 2 3 4 5 6 7 8 9 10; do
  DEMO_TOKENS="$DEMO_TOKENS,sha256:$(demo_digest "$DEMO_BUYER_TOKEN-$n")=buyer:$DEMO_BUYER-$n"
done

# The supplier-sandbox's behaviour per supplier (Tools/supplier-sandbox/main.swift): the demo's refunds use the first
# four; the others are there to try by hand.
DEMO_SUPPLIER_BEHAVIOURS="sup-confirm=confirmed,sup-partial=partial:4000,sup-used=used,sup-silent=silent,sup-late=late:30,sup-twice=twice,sup-garbage=garbage,sup-unknown=unknown-order,sup-fix=fix"
DEMO_SUPPLIER_IDS=$(echo "$DEMO_SUPPLIER_BEHAVIOURS" | tr ',' '\n' | cut -d= -f1 | paste -sd,)
# The demo waits this long for the silent supplier (24 h in production, DOMAIN.md §4).
DEMO_SUPPLIER_ANSWER_SECONDS=15
