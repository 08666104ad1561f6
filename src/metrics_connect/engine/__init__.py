"""The metrics engine: resolve widgets, plan and fetch what the store lacks, aggregate, render."""
