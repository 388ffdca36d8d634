"""The quality judge (nstx.judge) as a lifecycle plugin: every run scored on one ruler."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from nstx import tracking
from nstx.hookspecs import hookimpl

if TYPE_CHECKING:
    from nstx.judge import Judge

log = logging.getLogger(__name__)


class Scorer:
    """Lifecycle plugin: the judge scores every run (``judge: true``) at its last step, at each
    step that logs an image (``tracking.image_every``), and the image it ends with.

    It runs before the tracker in each hook, so the tracker logs the scores as ``eval/*``
    metrics at their step; the result carries the final ones (``Result.scores``).
    """

    def __init__(self) -> None:
        self.judges: dict[int, Judge] = {}

    @hookimpl
    def nstx_run_start(self, run):
        if run.config.get("judge", True) and run.content_image is not None:
            from nstx.judge import Judge

            self.judges[id(run)] = Judge.of(run.content_image, run.style_images, run.blend, run.device)

    @hookimpl(tryfirst=True)
    def nstx_step(self, run, step, image):
        judge = self.judges.get(id(run))
        if judge is not None and tracking.image_due(
            step, run.total_steps, tracking.image_every(run.config), run.scored_step or 0
        ):
            run.scores, run.scored_step = judge(image()), step

    @hookimpl(tryfirst=True)
    def nstx_run_end(self, run, result):
        judge = self.judges.pop(id(run), None)
        if judge is None or result is None:
            return
        if run.scored_step != result.steps:
            run.scores, run.scored_step = judge(result.image), result.steps
        result.scores = dict(run.scores)
        scores = result.scores
        log.info("judge: eval/content %.4g, eval/style %.4g", scores["content"], scores["style"])


scorer = Scorer()
