"""Fine-tuning, the labelled dataset's tooling and the evaluation harness."""
