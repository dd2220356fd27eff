"""Stage 1, data: the domain model, reading and checking datasets, the facts rules read, synthetic data."""
