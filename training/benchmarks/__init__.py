"""Benchmarks that print what they measure: speed, memory, service load, HTML extraction."""
