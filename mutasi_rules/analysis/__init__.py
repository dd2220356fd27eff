"""Stage 3, analysis: workload (ABK) of a dataset, and across snapshots."""
