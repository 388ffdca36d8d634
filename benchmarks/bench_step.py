"""Seconds per optimizer step against the hardware floor (the ``nstx-bench`` command).

    python benchmarks/bench_step.py --sizes 128 256 512 --json bench.json

See nstx/bench/speed.py for what is measured and docs/performance.md for results.
"""

import sys

from nstx.cli.bench import main

if __name__ == "__main__":
    sys.exit(main())
