"""A tqdm progress bar (step, loss, ETA) as a lifecycle plugin; silent when not on a terminal."""

from __future__ import annotations

from typing import Any

from tqdm.auto import tqdm

from nstx.registry.hookspecs import hookimpl


class ProgressBar:
    def __init__(self) -> None:
        self.bars: dict[int, Any] = {}

    @hookimpl
    def nstx_run_start(self, run):
        self.bars[id(run)] = tqdm(
            total=run.total_steps, unit="step", disable=None, dynamic_ncols=True, leave=False
        )

    @hookimpl
    def nstx_step(self, run, step, losses):
        bar = self.bars.get(id(run))
        if bar is not None:
            bar.set_postfix(loss=f"{losses['total']:.4g}", refresh=False)
            bar.update(step - bar.n)

    @hookimpl
    def nstx_run_end(self, run):
        bar = self.bars.pop(id(run), None)
        if bar is not None:
            bar.close()


progress_bar = ProgressBar()
