"""The evaluation harness: metrics, baselines, reports and the real-world scoreboard."""
