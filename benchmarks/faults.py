"""What faults around a run cost, measured with the real ``nstx`` command (run by hand, not a test).

    python benchmarks/faults.py dead-server      # a tracking server killed, or hung, mid-run
    python benchmarks/faults.py unreachable      # a tracking.uri that nothing answers, at start
    python benchmarks/faults.py repair           # a run killed with SIGKILL, repaired by the next
    python benchmarks/faults.py ctrl-c --trials 10   # Ctrl-C twice, the second at varied delays
    python benchmarks/faults.py ctrl-c --held        # Ctrl-C, then held down until it exits

Every run is 32 px with random weights; a plugin sleeps 0.05 s per step, so that a run lasts
long enough to be hit mid-way. Each measurement prints one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests.support: the command and servers

from tests.support import (
    FAST,
    SLOW_STEPS,
    Cli,
    Store,
    cli_args,
    free_port,
    gradient_image,
    mlflow_server,
    wait_until,
)

STEPS = 100
FAULTS = ["none", "killed", "hung", "hung-at-end"]
# The moment the run's own work ended (its image saved, the tracker's end not yet begun): the
# tracker's end hook wraps the others, so this one runs before it finishes the record. With
# $NSTX_FAULTS_HANG (a process group) it stops the tracking server there: the worst moment.
ENDED = """import os
import signal
import time

from nstx.hookspecs import hookimpl


@hookimpl
def nstx_run_end():
    with open({mark!r}, "w") as file:
        file.write(repr(time.time()))
    if "NSTX_FAULTS_HANG" in os.environ:
        os.killpg(int(os.environ["NSTX_FAULTS_HANG"]), signal.SIGSTOP)
"""


def command(work: Path, *extra: str) -> Cli:
    """``nstx`` in ``work`` on two small generated images, with the slow-steps plugin."""
    gradient_image((48, 40), seed=1).save(work / "content.png")
    gradient_image((40, 40), seed=2).save(work / "style.png")
    (work / "slow").mkdir(exist_ok=True)
    (work / "slow" / "slow.py").write_text(SLOW_STEPS)
    (work / "slow" / "ended.py").write_text(ENDED.format(mark=str(work / "ended")))
    options = {**FAST, "iterations": STEPS, "judge": "false"}
    base = [f"content={work / 'content.png'}", f"style={work / 'style.png'}", f"plugins_dir={work / 'slow'}"]
    return Cli(work, [*base, *cli_args(options), *extra])


def running(store: Store, with_metrics: bool = True):
    found = [r for r in store.runs() if r.info.status == "RUNNING" and (r.data.metrics or not with_metrics)]
    return found[0] if found else None


def timed_run(cli: Cli, fault=None, env: dict | None = None) -> tuple[dict, int, str]:
    """Seconds (wall; from the fault to the exit; from the end of the run's own work to the exit,
    which is what finishing the record cost), exit status and last stderr line of one run.
    ``fault(process)`` returns when it struck (``time.time()``), or None."""
    mark = cli.cwd / "ended"
    mark.unlink(missing_ok=True)
    started = time.time()
    process = cli.start(env={**os.environ, **(env or {})})
    struck = fault(process) if fault is not None else None
    _, stderr = process.communicate(timeout=600)
    ended = time.time()
    lines = stderr.strip().splitlines()
    seconds = {
        "wall_s": round(ended - started, 2),
        "fault_to_exit_s": None if struck is None else round(ended - struck, 2),
        "work_end_to_exit_s": round(ended - float(mark.read_text()), 2) if mark.exists() else None,
    }
    return seconds, process.returncode, lines[-1] if lines else ""


def dead_server(args: argparse.Namespace) -> None:
    """The same run against a live server, one killed mid-run, one stopped (hung) mid-run, and
    one stopped just as the run's own work ended and its record was to be finished."""
    for fault in args.faults:
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            options = ["--backend-store-uri", f"sqlite:///{work / 'server.db'}"]
            options += ["--artifacts-destination", str(work / "artifacts")]
            with mlflow_server("server", options, work / "server.log") as server:
                cli = command(work, f"tracking.uri={server.url}")

                def hit(process, server=server, fault=fault):
                    if fault in ("none", "hung-at-end"):
                        return None
                    wait_until(lambda: running(Store(server.url)), process, 300)
                    if fault == "killed":
                        server.crash()
                    else:
                        os.killpg(server.process.pid, signal.SIGSTOP)
                    return time.time()

                hang = {"NSTX_FAULTS_HANG": str(server.process.pid)} if fault == "hung-at-end" else {}
                seconds, status, line = timed_run(cli, hit, hang)
                if fault.startswith("hung"):
                    os.killpg(server.process.pid, signal.SIGCONT)
            print(json.dumps({"server": fault, **seconds, "exit": status, "line": line}))


def unreachable(args: argparse.Namespace) -> None:
    """A tracking.uri that nothing answers at start: how long until the one line, against the same
    command with tracking off (Python, torch and Hydra starting up)."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        for name, extra in (
            ("tracking off", ["tracking.enabled=false", "iterations=1"]),
            ("connection refused", [f"tracking.uri=http://127.0.0.1:{free_port()}"]),
        ):
            seconds, status, line = timed_run(command(work, *extra))
            print(json.dumps({"tracking": name, "wall_s": seconds["wall_s"], "exit": status, "line": line}))


def repair(args: argparse.Namespace) -> None:
    """A run SIGKILLed mid-way, then the next run: how its record ends, and how long that took."""
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        cli = command(work, "tracking.uri=runs")
        store = Store(f"sqlite:///{work / 'runs' / 'mlflow.db'}")
        process = cli.start()
        killed = wait_until(lambda: running(store), process, 300)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        before = store.client.get_run(killed.info.run_id).info.status
        seconds, status, _ = timed_run(Cli(work, [*cli.base, "iterations=1"]))
        after = store.client.get_run(killed.info.run_id)
        started = time.monotonic()
        Store(store.uri).client.search_runs([killed.info.experiment_id], "attributes.status = 'RUNNING'")
        print(
            json.dumps(
                {
                    "killed_run": killed.info.run_id,
                    "status_after_sigkill": before,
                    "status_after_next_run": after.info.status,
                    "tag": after.data.tags.get("nstx.repaired"),
                    "next_run_wall_s": seconds["wall_s"],
                    "next_run_exit": status,
                    "search_for_running_runs_s": round(time.monotonic() - started, 3),
                }
            )
        )


def ctrl_c(args: argparse.Namespace) -> None:
    """Ctrl-C, then Ctrl-C again (or held, with ``--held``) after a delay that moves through the
    run's ending."""
    delays = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0]
    complete = 0
    for trial in range(args.trials):
        delay = delays[trial % len(delays)]
        with tempfile.TemporaryDirectory() as folder:
            work = Path(folder)
            store = Store(f"sqlite:///{work / 'runs' / 'mlflow.db'}")
            cli = command(work, "tracking.uri=runs", "iterations=100000")

            second = []  # whether the second Ctrl-C found the process still there

            def twice(process, store=store, delay=delay, second=second):
                wait_until(lambda: running(store), process, 300)
                os.killpg(process.pid, signal.SIGINT)
                time.sleep(delay)
                second.append(process.poll() is None)
                while process.poll() is None:  # once, or every 20 ms while the key is held
                    os.killpg(process.pid, signal.SIGINT)
                    if not args.held:
                        break
                    time.sleep(0.02)

            _, status, line = timed_run(cli, twice)
            [run] = store.runs()
            artifacts = {entry.path for entry in store.client.list_artifacts(run.info.run_id)}
            whole = (
                status == 130
                and run.info.status == "KILLED"
                and "stylized.png" in artifacts
                and line.endswith("was recorded as KILLED")
            )
            complete += whole
            print(
                json.dumps(
                    {
                        "trial": trial + 1,
                        "delay_s": delay,
                        "second_ctrl_c_sent": second[0],
                        "exit": status,
                        "run": run.info.status,
                        "image_logged": "stylized.png" in artifacts,
                        "line": line,
                        "complete": whole,
                    }
                )
            )
    print(json.dumps({"trials": args.trials, "complete_killed_records": complete}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="measure", required=True)
    dead = commands.add_parser("dead-server")
    dead.add_argument("--faults", nargs="+", choices=FAULTS, default=FAULTS)
    dead.set_defaults(run=dead_server)
    commands.add_parser("unreachable").set_defaults(run=unreachable)
    commands.add_parser("repair").set_defaults(run=repair)
    trials = commands.add_parser("ctrl-c")
    trials.add_argument("--trials", type=int, default=10)
    trials.add_argument("--held", action="store_true", help="after the second, Ctrl-C every 20 ms")
    trials.set_defaults(run=ctrl_c)
    args = parser.parse_args()
    args.run(args)


if __name__ == "__main__":
    main()
