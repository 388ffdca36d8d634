"""A lifecycle plugin: every reported loss, step by step, in losses.csv in the run directory."""

import csv

from nstx.hookspecs import hookimpl


@hookimpl
def nstx_step(run, step, losses):
    if run.output_dir is None:  # runs from the Python API without an output directory
        return
    path = run.output_dir / "losses.csv"
    new = not path.exists()
    with path.open("a", newline="") as file:
        writer = csv.writer(file)
        if new:
            writer.writerow(["step", *losses])
        writer.writerow([step, *losses.values()])
