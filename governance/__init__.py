"""Governance: PII classification, masked shares, access and erasure (docs/governance.md)."""
