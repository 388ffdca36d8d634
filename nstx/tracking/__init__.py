"""Lifecycle plugins that record runs: MLflow runs and sweeps, comparison grids, snapshots, progress."""
