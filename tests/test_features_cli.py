"""The features of several styles, colour, levels, masks and raw-feature costs from the command line."""

from omegaconf import OmegaConf
from PIL import Image

from nstx import samples
from tests.nstx_helpers import run_nstx


def test_one_command_line_uses_blend_masks_colour_levels_and_a_raw_feature_cost(tmp_path):
    mask = tmp_path / "left.png"
    left = Image.new("L", (40, 30), 0)
    left.paste(255, (0, 0, 20, 30))
    left.save(mask)
    run_dir = tmp_path / "run"
    run_nstx(
        f"content={samples.CONTENT}",
        f"style=[{samples.STYLE},{samples.CONTENT}]",
        "style_blend=[0.7,0.3]",
        f"style_masks=[null,{mask}]",
        "color=luminance",
        "scales=[32,48]",
        "scale_iterations=[2,1]",
        "style_cost=sliced_wasserstein",
        f"hydra.run.dir={run_dir}",
        cwd=tmp_path,
    )
    assert Image.open(run_dir / "stylized.png").size == (48, 32)
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert list(config.style_blend) == [0.7, 0.3] and config.style_masks[0] is None
    assert (config.color, list(config.scales), config.style_cost.name) == (
        "luminance",
        [32, 48],
        "sliced_wasserstein",
    )


def test_a_bad_value_gets_one_clear_line(tmp_path):
    done = run_nstx("color=sepia", f"hydra.run.dir={tmp_path / 'run'}", cwd=tmp_path, check=False)
    assert done.returncode != 0
    assert "unknown color 'sepia' (accepted: none, luminance, histogram)" in done.stderr
