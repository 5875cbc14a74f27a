"""Reports rendered from stored decisions: evaluation tables (and, later, transparency CSVs,
Transparency Database exports and escalation packages)."""
