"""Data tooling around labelled output: read it back, round-trip it through Label Studio, and
suggest which sentences to annotate first."""
