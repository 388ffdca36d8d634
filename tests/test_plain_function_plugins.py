"""Plain functions as plugins: a correlation f(features) and a style cost f(statistic, target),
from a plugins directory and from an installed package, selected by name on the command line."""

from __future__ import annotations

import importlib.util
import subprocess
import textwrap
from pathlib import Path

import pytest
import torch

import nstx
from nstx import registry
from nstx.errors import InputError
from nstx.registry import KINDS, Registry
from tests.support import FAST, NSTX

PLUGINS = {
    "my_corr.py": '''
        from nstx.hookspecs import hookimpl

        @hookimpl
        def nstx_register_correlation(register):
            register("my_corr", my_corr)

        def my_corr(features, power: float = 1.0):
            """The Gram matrix of the features raised to ``power``."""
            f = features.flatten(2).abs().pow(power)
            return f @ f.mT / f.shape[-1]
    ''',
    "my_cost.py": '''
        from nstx.hookspecs import hookimpl

        @hookimpl
        def nstx_register_style_cost(register):
            register("my_cost", my_cost)

        def my_cost(generated, target):
            """The mean absolute difference of the statistics."""
            return (generated - target).abs().mean()
    ''',
}


@pytest.fixture(scope="module")
def plugins_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("plain_plugins")
    for name, source in PLUGINS.items():
        (folder / name).write_text(textwrap.dedent(source))
    return folder


def nstx_command(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(NSTX), *args], cwd=cwd, capture_output=True, text=True, timeout=300)


def test_a_32px_run_selects_both_by_name_with_an_option(plugins_dir, tmp_path):
    done = nstx_command(
        f"plugins_dir={plugins_dir}",
        "correlation=my_corr",
        "correlation.power=2.0",
        "style_cost=my_cost",
        "image_size=32",
        "iterations=3",
        "tracking.enabled=false",
        f"hydra.run.dir={tmp_path / 'run'}",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "run" / "stylized.png").stat().st_size > 0


def test_nstx_help_lists_them_in_their_groups(plugins_dir, tmp_path):
    done = nstx_command(f"plugins_dir={plugins_dir}", "--help", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    groups = done.stdout.split("correlation:", 1)[1]
    assert "my_corr" in groups.split("\n\n", 1)[0]
    assert "my_cost" in done.stdout.split("style_cost:", 1)[1].split("\n\n", 1)[0]


def test_nstx_plugins_lists_them_with_their_file(plugins_dir, tmp_path):
    listing = Path(str(NSTX) + "-plugins")
    done = subprocess.run([str(listing), "--plugins-dir", str(plugins_dir)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = {line.split()[0]: line for line in done.stdout.splitlines() if line.startswith("  ")}
    assert "plugins dir" in lines["my_corr"] and "my_corr.py" in lines["my_corr"]
    assert "plugins dir" in lines["my_cost"] and "my_cost.py" in lines["my_cost"]


def test_the_function_cost_scores_the_correlations_statistic_against_the_blended_target():
    def doubled(features):
        return 2 * features.flatten(2).mean(-1, keepdim=True)

    def difference(statistic, target, scale: float = 1.0):
        return scale * (statistic - target).abs().sum()

    correlation = KINDS["correlation"].form_of(doubled).build(doubled)()
    cost = KINDS["style_cost"].form_of(difference).build(difference)(correlation=correlation, scale=3.0)
    a, b = torch.ones(1, 2, 3, 3), torch.zeros(1, 2, 3, 3)
    target = cost.prepare([a, b], [0.25, 0.75])
    assert torch.allclose(target, torch.full((1, 2, 1), 0.5))
    assert cost.score(b, target).item() == pytest.approx(3.0 * 2 * 0.5)


@pytest.mark.parametrize(
    ("kind", "source"),
    [
        ("correlation", "def bad(features, weights, extra):\n    return features"),
        ("style_cost", "def bad(generated):\n    return generated.sum()"),
        ("init", "def bad(content, style):\n    return content"),
    ],
)
def test_a_function_of_no_form_is_one_line_naming_it_and_the_forms(kind, source, tmp_path):
    (tmp_path / "bad.py").write_text(
        f"from nstx.hookspecs import hookimpl\n\n@hookimpl\ndef nstx_register_{kind}(register):\n"
        f"    register('bad', bad)\n\n{source}\n"
    )
    plugins = Registry()
    plugins.load_plugins_dir(tmp_path)
    with pytest.raises(InputError) as error:
        plugins.names(kind)
    message = str(error.value)
    assert message.startswith(f"{kind} 'bad' (plugin ") and "bad.py" in message
    assert f"fits no form of a {kind}; accepted: " in message
    assert all(form.signature in message for form in KINDS[kind].forms)
    assert "\n" not in message and "needs" not in message


def test_factories_and_classes_keep_working(registered, content_path, style_path):
    from nstx.hookspecs import hookimpl
    from nstx.loss import CorrelationCost

    class Halved(CorrelationCost):
        def distance(self, statistic, target):
            return (statistic - target).pow(2).mean() / 2

    class Plugin:
        @hookimpl
        def nstx_register_correlation(self, register):
            register("gram_factory", lambda: registry.get("correlation", "gram")())

        @hookimpl
        def nstx_register_style_cost(self, register):
            register("halved", Halved)

    registered(Plugin())
    image = nstx.stylize(content_path, style_path, **FAST, correlation="gram_factory", style_cost="halved")
    assert image.size == (32, 27)


@pytest.mark.skipif(importlib.util.find_spec("nstx_plugin_example") is None, reason="example not installed")
def test_the_installed_example_package_offers_plain_functions_listed_everywhere(tmp_path):
    for kind, name in (("correlation", "pearson"), ("style_cost", "huber")):
        entry = registry.default().entry(kind, name)
        assert entry.form.adapt is not None and entry.plugin == "example"
    done = nstx_command("--help", cwd=tmp_path)
    assert "pearson" in done.stdout and "huber" in done.stdout
