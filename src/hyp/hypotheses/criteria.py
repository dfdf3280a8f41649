"""The four criteria every answer is scored on (SPEC §4), in the order tables show them."""

CRITERIA = ("agent", "factual", "personality", "complete")
