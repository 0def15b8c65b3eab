"""Command-line entry points: thin wrappers over `factsep.training` and `factsep.model`."""
