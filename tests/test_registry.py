"""The plugin registry: built-ins, entry points, plugin directories, clear errors."""

import sys
import textwrap

import pytest

import nstx
from nstx import registry
from nstx.errors import InputError
from nstx.registry import Registry
from tests.support import FAST

BUILT_INS = {
    "backbone": ["vgg16", "vgg19"],
    "pooling": ["avg", "max"],
    "correlation": ["covariance", "gram", "mean_shifted"],
    "style_cost": ["frobenius", "l1", "mse"],
    "optimizer": ["adam", "lbfgs"],
    "init": ["content", "noise", "style"],
}

PLUGIN_SOURCE = textwrap.dedent(
    '''
    from nstx.hookspecs import hookimpl


    class {cls}:
        """Gram matrix of squared activations."""

        def __call__(self, features):
            f = features.flatten(2) ** 2
            return f @ f.mT / f.shape[-1]


    @hookimpl
    def nstx_register_correlation(register):
        register("{name}", {cls})
    '''
)


@pytest.mark.parametrize("kind", sorted(BUILT_INS))
def test_built_ins_are_listed(kind):
    assert set(BUILT_INS[kind]) <= set(registry.names(kind))
    assert registry.names(kind) == sorted(registry.names(kind))


def test_unknown_name_suggests_a_close_match():
    with pytest.raises(ValueError) as error:
        registry.get("correlation", "gramm")
    message = str(error.value)
    assert "did you mean 'gram'?" in message
    assert "covariance, gram, mean_shifted" in message


def test_unknown_kind_lists_kinds():
    with pytest.raises(ValueError, match="unknown plugin kind 'correlations'; did you mean 'correlation'"):
        registry.names("correlations")


def test_plugin_directory_plugin_is_found_and_used(tmp_path, content_path, style_path):
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "squared.py").write_text(PLUGIN_SOURCE.format(cls="Squared", name="squared_gram"))
    reg = Registry()
    reg.load_plugins_dir(plugins)
    assert "squared_gram" in reg.names("correlation")
    assert reg.entry("correlation", "squared_gram").plugin == str(plugins / "squared.py")
    image = nstx.stylize(
        content_path, style_path, **FAST, correlation="squared_gram", plugins_dir=str(plugins)
    )
    assert image.size == (32, 27)


def test_entry_point_plugin_is_found_and_used(tmp_path, monkeypatch, content_path, style_path):
    """A real distribution on sys.path with an ``nstx`` entry point (no mocking)."""
    site = tmp_path / "site"
    (site / "nstx_cubed").mkdir(parents=True)
    (site / "nstx_cubed" / "__init__.py").write_text(
        PLUGIN_SOURCE.format(cls="Cubed", name="cubed_gram").replace("** 2", "** 3")
    )
    info = site / "nstx_cubed-1.2.3.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nstx-cubed\nVersion: 1.2.3\n")
    (info / "entry_points.txt").write_text("[nstx]\ncubed = nstx_cubed\n")
    monkeypatch.syspath_prepend(str(site))
    reg = Registry()
    assert "cubed_gram" in reg.names("correlation")
    assert reg.entry("correlation", "cubed_gram").plugin == "cubed"
    assert any(dist.project_name == "nstx-cubed" for _, dist in reg.pm.list_plugin_distinfo())
    monkeypatch.setattr(registry.manager, "_registry", reg)
    cfg = nstx.compose(**FAST)
    cfg.correlation.name = "cubed_gram"
    assert nstx.run(cfg, content=content_path, style=style_path).image.size == (32, 27)
    sys.modules.pop("nstx_cubed", None)


def test_two_plugins_registering_one_name_is_an_error(tmp_path):
    plugins = tmp_path / "dupes"
    plugins.mkdir()
    (plugins / "a.py").write_text(PLUGIN_SOURCE.format(cls="A", name="twin"))
    (plugins / "b.py").write_text(PLUGIN_SOURCE.format(cls="B", name="twin"))
    reg = Registry()
    reg.load_plugins_dir(plugins)
    with pytest.raises(ValueError, match="registered twice") as error:
        reg.names("correlation")
    assert str(plugins / "a.py") in str(error.value) and str(plugins / "b.py") in str(error.value)


def test_missing_plugin_directory_is_an_input_error(tmp_path):
    with pytest.raises(ValueError, match=r"nope.* does not exist"):
        Registry().load_plugins_dir(tmp_path / "nope")


@pytest.mark.parametrize(
    ("source", "where", "cause"),
    [
        ("x = 1\ndef oops(:\n", "line 2", "SyntaxError: invalid syntax"),
        ("import math\n\nVALUE = math.sqrt(-1)\n", "line 3", "ValueError: math domain error"),
        (
            "from nstx.hookspecs import hookimpl\n\n\n@hookimpl\ndef nstx_register_correlation(register):\n"
            "    raise RuntimeError('no')\n",
            "line 6",
            "RuntimeError: no",
        ),
    ],
    ids=["syntax_error", "raises_at_import", "raises_while_registering"],
)
def test_a_plugin_that_cannot_load_is_one_line_naming_its_file_and_line(source, where, cause, tmp_path):
    plugins = tmp_path / "broken"
    plugins.mkdir()
    (plugins / "bad.py").write_text(source)
    with pytest.raises(InputError) as error:
        reg = Registry()
        reg.load_plugins_dir(plugins)
        reg.names("correlation")
    message = str(error.value)
    assert f"{plugins / 'bad.py'}, {where}: {cause}" in message, message
    assert "\n" not in message
