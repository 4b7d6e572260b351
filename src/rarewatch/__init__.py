"""rarewatch: rare-event detection and early warning as a reproducible pipeline (docs/architecture.md)."""
