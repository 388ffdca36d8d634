"""Composing the config: Hydra overrides, the config store of plugins, one-line config errors."""
