"""The console scripts: nstx, nstx-plugins, nstx-features and nstx-bench."""
