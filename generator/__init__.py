"""Synthetic AML transaction data in the published data model (see SPEC.md)."""
