"""The quality benchmark's curves (the judge's scores at checkpoints against wall time), and
their tables and plot."""

from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby
from operator import attrgetter
from pathlib import Path
from typing import Any

NSTX, COARSE_TO_FINE, PASTICHE = "nstx", "nstx coarse-to-fine", "pastiche"

Capture = tuple[int, float, Any]  # step, seconds since the run started, its image (PIL)


@dataclass
class Point:
    """A checkpoint: the step, wall seconds since the run started, the judge's scores."""

    step: int
    seconds: float
    content: float
    style: float


@dataclass
class Curve:
    """One contender's checkpoints on one pair at one size."""

    content: str
    style: str
    size: int
    contender: str
    points: list[Point]

    def until(self, step: int) -> Curve:
        """The curve of the same run stopped at ``step``."""
        points = [point for point in self.points if point.step <= step]
        return Curve(self.content, self.style, self.size, self.contender, points)

    def reaching(self, mark: Point) -> Point | None:
        """The first checkpoint with eval/style at most ``mark``'s and eval/content no worse."""
        return next((p for p in self.points if p.style <= mark.style and p.content <= mark.content), None)


def groups(curves: list[Curve]) -> list[dict[str, Curve]]:
    """The curves of each (size, pair), by contender, in the order they ran."""
    by_pair = attrgetter("size", "content", "style")
    return [{curve.contender: curve for curve in group} for _, group in groupby(curves, by_pair)]


def reached(curve: Curve, mark: Point) -> str:
    point = curve.reaching(mark)
    if point is None:
        return "not reached"
    return f"{point.seconds:.1f} s (step {point.step}), {point.seconds / mark.seconds:.2f} of pastiche's"


def table(curves: list[Curve], default_steps: int) -> str:
    """Each contender's final scores and time, and when it first matched pastiche's final image."""
    header = ["size", "content / style", "contender", "steps", "eval/content", "eval/style", "wall s"]
    header.append("reaches pastiche's eval/style, eval/content no worse")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for group in groups(curves):
        mark = group[PASTICHE].points[-1]
        rows = [group[PASTICHE], group[NSTX], group[COARSE_TO_FINE]]
        stopped = group[NSTX].until(default_steps)  # what a run of nstx's default length gives
        if stopped.points and stopped.points[-1].step < group[NSTX].points[-1].step:
            rows.insert(1, stopped)
        for curve in rows:
            final = curve.points[-1]
            cells = [f"{curve.size}", f"{curve.content} / {curve.style}", curve.contender, f"{final.step}"]
            cells += [f"{final.content:.3g}", f"{final.style:.3g}", f"{final.seconds:.1f}"]
            cells.append("the reference" if curve.contender == PASTICHE else reached(curve, mark))
            lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def targets(curves: list[Curve]) -> str:
    """Per pair and size: whether an nstx contender matched pastiche's final image within half
    of pastiche's time (the project's target, set at 512 px)."""
    lines = [
        "| size | content / style | half of pastiche's wall s | nstx | nstx coarse-to-fine | target holds |",
        "|" + "---|" * 6,
    ]
    for group in groups(curves):
        mark = group[PASTICHE].points[-1]
        reaches = {name: group[name].reaching(mark) for name in (NSTX, COARSE_TO_FINE)}
        cells = [f"{mark.seconds / 2:.1f}"]
        cells += ["not reached" if p is None else f"{p.seconds:.1f}" for p in reaches.values()]
        within = [name for name, p in reaches.items() if p is not None and p.seconds <= mark.seconds / 2]
        cells.append(f"yes ({', '.join(within)})" if within else "no")
        pair = group[PASTICHE]
        lines.append(f"| {pair.size} | {pair.content} / {pair.style} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot(curves: list[Curve], path: Path) -> None:
    """eval/style against wall seconds, one panel per pair and size; dashed: pastiche's final
    eval/style; dotted: half of pastiche's time."""
    from matplotlib.figure import Figure

    sizes = list(dict.fromkeys(curve.size for curve in curves))
    pairs = list(dict.fromkeys((curve.content, curve.style) for curve in curves))
    figure = Figure(figsize=(4.5 * len(pairs), 3.5 * len(sizes)), layout="constrained")
    axes = figure.subplots(len(sizes), len(pairs), squeeze=False)
    for curve in curves:
        ax = axes[sizes.index(curve.size)][pairs.index((curve.content, curve.style))]
        ax.plot(
            [p.seconds for p in curve.points], [p.style for p in curve.points], ".-", label=curve.contender
        )
        if curve.contender == PASTICHE:
            ax.axhline(curve.points[-1].style, color="grey", linestyle="--", linewidth=0.8)
            ax.axvline(curve.points[-1].seconds / 2, color="grey", linestyle=":", linewidth=0.8)
        ax.set_xlim(left=0)
        ax.set(
            title=f"{curve.content} / {curve.style}, {curve.size} px", xlabel="wall s", ylabel="eval/style"
        )
        ax.legend(fontsize="small")
    figure.savefig(path, dpi=100)
