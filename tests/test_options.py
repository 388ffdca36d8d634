"""A plugin's options are checked against its signature, before any work is done."""

from __future__ import annotations

import pytest

import nstx
from nstx.errors import InputError
from nstx.registry import KINDS, Entry, signatures
from tests.support import FAST


def check(kind, name, impl, options):
    """The option check of ``impl`` registered as ``name``, in the form of its kind it fits."""
    signatures.check(Entry(kind, name, impl, "test", KINDS[kind].form_of(impl)), options)


def sgd(parameters, lr: float = 0.1, nesterov: bool = False, steps: int = 1, mode: str = "plain"):
    """An optimizer factory as a third party might write one: the engine passes the image first."""


def needs_path(content, style, generator, path, blur: float = 0.0):
    """An init with an option that has no default."""


def takes_anything(correlation=None, **options):
    """A style cost that forwards its options."""


def blur(content, style, generator, radius: int | None = 2, sigma=1.0):
    """An init whose ``radius`` may be null (annotated so) and ``sigma`` may not (no annotation)."""


def test_options_the_implementation_takes_pass():
    check("optimizer", "sgd", sgd, {"lr": 1, "nesterov": True, "steps": 3, "mode": "heavy"})
    check("init", "needs_path", needs_path, {"path": "a.png"})
    check("style_cost", "takes_anything", takes_anything, {"anything": [1, 2]})
    check("init", "blur", blur, {"radius": None})


@pytest.mark.parametrize(
    ("kind", "impl", "options", "message"),
    [
        ("optimizer", sgd, {"momentum": 0.9}, "unknown optimizer=x option 'momentum' (available: lr, mode"),
        ("optimizer", sgd, {"nesterof": True}, "did you mean 'nesterov'?"),
        ("optimizer", sgd, {"parameters": []}, "optimizer.parameters is not an option: nstx passes it"),
        ("style_cost", takes_anything, {"correlation": "gram"}, "style_cost.correlation is not an option"),
        ("init", needs_path, {}, "init=x needs init.path"),
        ("optimizer", sgd, {"lr": "fast"}, "optimizer.lr must be a number, got 'fast'"),
        ("optimizer", sgd, {"lr": True}, "optimizer.lr must be a number, got True"),
        ("optimizer", sgd, {"steps": 2.5}, "optimizer.steps must be an integer, got 2.5"),
        ("optimizer", sgd, {"nesterov": 1}, "optimizer.nesterov must be true or false, got 1"),
        ("optimizer", sgd, {"mode": 3}, "optimizer.mode must be a string, got 3"),
        ("optimizer", sgd, {"lr": None}, "optimizer.lr must be a number, got null"),
        ("init", blur, {"sigma": None}, "init.sigma must be a number, got null"),
    ],
)
def test_a_bad_option_is_one_line_naming_it(kind, impl, options, message):
    with pytest.raises(InputError) as error:
        check(kind, "x", impl, options)
    assert message in str(error.value)
    assert "\n" not in str(error.value)


def test_an_implementation_without_options_says_so():
    class Gram:
        def __call__(self, features):
            return features

    with pytest.raises(InputError, match=r"correlation=gram takes no options, got correlation\.scale"):
        check("correlation", "gram", Gram, {"scale": 2})


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        ({"optimizer": {"name": "adam", "momentum": 0.9}}, "unknown optimizer=adam option 'momentum'"),
        ({"optimizer": {"name": "adam", "beta1": 1.5}}, "optimizer.beta1 must be in [0, 1)"),
        ({"optimizer": {"name": "lbfgs", "lr": -1.0}}, "optimizer.lr must be finite and >= 0"),
        ({"style_cost": {"name": "gaussian_w2", "eps": 0.0}}, "style_cost.eps must be a positive number"),
        ({"init": {"name": "image", "path": "/nonexistent/start.png"}}, "image '/nonexistent/start.png'"),
    ],
    ids=["unknown_key", "adam_beta", "lbfgs_lr", "style_cost_eps", "init_path"],
)
def test_a_bad_option_fails_before_a_tracked_run_starts(
    mlflow_store, content_path, style_path, plugins, message
):
    """Also the range checks a plugin makes itself, when it is made: nstx makes it once up front."""
    options = {**FAST, "tracking": {"enabled": True, "experiment": "options"}}
    with pytest.raises(InputError) as error:
        nstx.stylize(content_path, style_path, **plugins, **options)
    assert str(error.value).startswith(message)
    assert mlflow_store.runs("options") == []


def test_every_plugin_kind_says_what_nstx_passes_in_each_of_its_forms():
    for kind in KINDS.values():
        assert kind.given and kind.returns and kind.forms
        assert all(form.shape for form in kind.forms)
