"""Deep-learning building blocks for checks: architectures, parameter counts, framework helpers."""
