"""The benchmarks behind nstx-bench: seconds per step against the floor, and quality against time."""
