"""The quality judge as a lifecycle plugin: every run scored on one ruler.

At the start of a run (``judge: true``) it gives the run its judge (``Run.judge``), which the
tracker calls on every image it logs; at the end it scores the image the run ends with into
``Result.scores``, before the tracker records the result.
"""

from __future__ import annotations

import logging

from nstx.errors import flag
from nstx.registry.hookspecs import hookimpl

log = logging.getLogger(__name__)


def wanted(config) -> bool:
    return flag(config.get("judge", True), "judge")


class Scorer:
    @hookimpl
    def nstx_check(self, config):
        wanted(config)

    @hookimpl
    def nstx_run_start(self, run):
        if wanted(run.config) and run.content_image is not None:
            from nstx.judge.ruler import Judge

            run.judge = Judge.of(run.content_image, run.style_images, run.blend, run.device).at

    @hookimpl(tryfirst=True)
    def nstx_run_end(self, run, result):
        if run.judge is None or result is None:
            return
        result.scores = run.judge(result.steps, result.image)
        log.info(
            "judge: eval/content %.4g, eval/style %.4g", result.scores["content"], result.scores["style"]
        )


scorer = Scorer()
