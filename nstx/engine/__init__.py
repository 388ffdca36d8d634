"""The engine: one run from its settings (parsed once) through inputs, assembled plugins and the
lifecycle around the step loop."""
