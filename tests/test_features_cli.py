"""The features of several styles, colour, levels, masks and raw-feature costs from the command line."""

import subprocess

from nstx_helpers import nstx_command
from omegaconf import OmegaConf
from PIL import Image

from nstx import samples


def test_one_command_line_uses_blend_masks_colour_levels_and_a_raw_feature_cost(tmp_path):
    mask = tmp_path / "left.png"
    left = Image.new("L", (40, 30), 0)
    left.paste(255, (0, 0, 20, 30))
    left.save(mask)
    run_dir = tmp_path / "run"
    command = [
        *nstx_command(),
        f"content={samples.CONTENT}",
        f"style=[{samples.STYLE},{samples.CONTENT}]",
        "style_blend=[0.7,0.3]",
        f"style_masks=[null,{mask}]",
        "color=luminance",
        "scales=[32,48]",
        "scale_iterations=[2,1]",
        "style_cost=sliced_wasserstein",
        "weights=random",
        "tracking.enabled=false",
        f"hydra.run.dir={run_dir}",
    ]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert Image.open(run_dir / "stylized.png").size == (48, 32)
    config = OmegaConf.load(run_dir / ".hydra" / "config.yaml")
    assert list(config.style_blend) == [0.7, 0.3] and config.style_masks[0] is None
    assert (config.color, list(config.scales), config.style_cost.name) == (
        "luminance",
        [32, 48],
        "sliced_wasserstein",
    )


def test_a_bad_value_gets_one_clear_line(tmp_path):
    command = [*nstx_command(), "color=sepia", "weights=random", f"hydra.run.dir={tmp_path / 'run'}"]
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert done.returncode != 0
    assert "unknown color 'sepia' (accepted: none, luminance, histogram)" in done.stderr
