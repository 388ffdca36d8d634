"""The bad inputs of the reliability table: each as options (config names) and the expected message.

Shared by the Python API test and the CLI test, so that both go through the same cases.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.support import gradient_image


def png_header_only(path: Path, width: int, height: int, colour_type: int = 2) -> None:
    """A PNG whose header declares ``width`` x ``height`` and ``colour_type`` (no pixel data)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b""))
        + chunk(b"IEND", b"")
    )


def truncated_png(path: Path) -> None:
    gradient_image((64, 64)).save(path, format="PNG")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def file_at(name: str, make: Callable[[Path], Any], key: str = "content") -> Callable[[Path], dict]:
    """Options whose ``key`` is a file ``name`` made by ``make`` in the test's directory."""

    def options(tmp: Path) -> dict:
        path = tmp / name
        make(path)
        return {key: str(path)}

    return options


def weights_file(make: Callable[[Path], Any]) -> Callable[[Path], dict]:
    def options(tmp: Path) -> dict:
        path = tmp / "weights.pth"
        make(path)
        return {"weights": str(path)}

    return options


def torch_save(value: Callable[[], Any]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        import torch

        torch.save(value(), path)

    return make


def wrong_architecture() -> dict:
    import torch

    return {"features.0.weight": torch.zeros(8, 3, 3, 3), "head.weight": torch.zeros(2)}


@dataclass(frozen=True)
class Case:
    """``options(tmp_path)`` gives the run options; the message must contain each of ``expected``."""

    options: Callable[[Path], dict]
    expected: tuple[str, ...]


def fixed(**options: Any) -> Callable[[Path], dict]:
    return lambda tmp: dict(options)


def two_styles(**options: Any) -> Callable[[Path], dict]:
    """Options with two style images made in the test's directory."""

    def make(tmp: Path) -> dict:
        paths = [tmp / f"style_{seed}.png" for seed in (3, 4)]
        for seed, path in zip((3, 4), paths, strict=True):
            gradient_image((40, 40), seed=seed).save(path)
        return {"style": [str(path) for path in paths], **options}

    return make


def deleted_experiment(tmp: Path) -> dict:
    """A store (a directory, as ``tracking.uri`` takes a path) whose experiment ``gone`` is deleted."""
    from mlflow import MlflowClient

    from nstx.tracking.store import quiet_startup

    with quiet_startup():
        client = MlflowClient(f"sqlite:///{tmp / 'mlflow.db'}")
        client.delete_experiment(client.create_experiment("gone"))
    return {"tracking.enabled": True, "tracking.uri": str(tmp / "mlflow.db"), "tracking.experiment": "gone"}


def tracking_at_a_file(tmp: Path) -> dict:
    (tmp / "notes.txt").write_text("not a directory")
    return {"tracking.enabled": True, "tracking.uri": str(tmp / "notes.txt")}


def silent_server(tmp: Path) -> dict:
    """Tracking on a local port nothing listens on."""
    from tests.support import free_port

    return {"tracking.enabled": True, "tracking.uri": f"http://127.0.0.1:{free_port()}"}


def unwritable_output(tmp: Path) -> dict:
    (tmp / "a_file").write_text("not a directory")
    return {"output_dir": str(tmp / "a_file" / "out")}


CASES = {
    "content_missing": Case(
        fixed(content="/nonexistent/content.png"), ("/nonexistent/content.png", "does not exist")
    ),
    # Empty or odd values: named for what they are, never taken for the sample or "missing".
    "content_empty": Case(fixed(content=""), ("content is empty", "null", "bundled sample")),
    "content_symlink_loop": Case(
        file_at("loop.png", lambda p: p.symlink_to(p)), ("loop.png", "symbolic link that loops")
    ),
    "weights_a_device": Case(fixed(weights="/dev/null"), ("'/dev/null' is not a regular file",)),
    "weights_a_directory": Case(lambda tmp: {"weights": str(tmp)}, ("is a directory", "accepted: auto")),
    "max_pixels_negative": Case(fixed(max_pixels=-1), ("max_pixels must be a positive integer, got -1",)),
    "style_dir_without_images": Case(
        file_at("empty_dir", lambda p: p.mkdir(), key="style"), ("empty_dir", "holds no images", ".png")
    ),
    "not_an_image": Case(
        file_at("notes.png", lambda p: p.write_text("hello")), ("notes.png", "not an image")
    ),
    "truncated": Case(file_at("half.png", truncated_png), ("half.png", "cannot be decoded")),
    "zero_bytes": Case(file_at("empty.png", lambda p: p.write_bytes(b"")), ("empty.png", "is empty")),
    "zero_dimension": Case(
        file_at("flat.png", lambda p: png_header_only(p, 0, 8)), ("flat.png", "zero dimension", "0x8")
    ),
    "above_pixel_limit": Case(
        lambda tmp: {
            **file_at("big.png", lambda p: gradient_image((80, 80)).save(p))(tmp),
            "max_pixels": 1000,
        },
        ("big.png", "6400 pixels", "limit of 1000"),
    ),
    "unsupported_mode": Case(
        file_at("odd.png", lambda p: png_header_only(p, 8, 8, colour_type=1)), ("odd.png", "unsupported mode")
    ),
    "unknown_plugin": Case(fixed(correlation="gramm"), ("'gramm'", "did you mean 'gram'", "covariance")),
    "unknown_layer": Case(fixed(style_layers={"relu9_1": 1.0}), ("'relu9_1'", "relu1_1", "relu5_4")),
    "empty_layer_map": Case(fixed(style_layers={}), ("style_layers", "empty or all zero")),
    "all_zero_layer_map": Case(fixed(content_layers={"relu4_2": 0}), ("content_layers", "empty or all zero")),
    "negative_layer_weight": Case(fixed(style_layers={"relu1_1": -1}), ("style_layers", "relu1_1", ">= 0")),
    "zero_iterations": Case(fixed(iterations=0), ("iterations", "positive integer", "0")),
    "negative_iterations": Case(fixed(iterations=-3), ("iterations", "positive integer", "-3")),
    "image_size_too_small": Case(fixed(image_size=8), ("image_size 8", "16px", "relu5_1")),
    "infinite_weight": Case(fixed(style_weight=float("inf")), ("style_weight", "finite", "inf")),
    "nan_weight": Case(fixed(tv_weight=float("nan")), ("tv_weight", "finite", "nan")),
    "negative_weight": Case(fixed(content_weight=-1.0), ("content_weight", ">= 0", "-1.0")),
    "unknown_line_search": Case(
        fixed(**{"optimizer.line_search": "armijo"}),
        ("optimizer.line_search", "'armijo'", "strong_wolfe"),
    ),
    "zero_history_size": Case(
        fixed(**{"optimizer.history_size": 0}),
        ("optimizer.history_size", "positive integer", "0"),
    ),
    "negative_learning_rate": Case(fixed(**{"optimizer.lr": -1}), ("optimizer.lr", "finite and >= 0", "-1")),
    "beta_out_of_range": Case(
        fixed(optimizer={"name": "adam", "beta2": 1.0}), ("optimizer.beta2", "[0, 1)", "1.0")
    ),
    "unknown_plugin_option": Case(
        fixed(optimizer={"name": "adam", "momentum": 0.9}),
        ("optimizer=adam option 'momentum'", "beta1, beta2, lr"),
    ),
    "plugin_option_of_wrong_type": Case(
        fixed(correlation={"name": "mean_shifted", "shift": "low"}),
        ("correlation.shift", "a number", "'low'"),
    ),
    "null_plugin_option": Case(fixed(**{"optimizer.lr": None}), ("optimizer.lr", "a number", "null")),
    "tv_power_below_one": Case(fixed(tv_power=0.5), ("tv_power", ">= 1", "0.5")),
    "style_entry_not_a_path": Case(fixed(style=[None]), ("image None", "not a file path")),
    "empty_style_list": Case(fixed(style=[]), ("style is an empty list", "null for the bundled sample")),
    "zero_log_every": Case(fixed(log_every=0), ("log_every", "positive integer", "0")),
    "negative_save_every": Case(fixed(save_every=-1), ("save_every", ">= 0", "-1")),
    "negative_image_every": Case(
        fixed(**{"tracking.image_every": -5}), ("tracking.image_every", ">= 0", "-5")
    ),
    "fractional_projections": Case(
        fixed(style_cost={"name": "sliced_wasserstein", "projections": 2.5}),
        ("style_cost.projections", "positive integer or null", "2.5"),
    ),
    "negative_eps": Case(
        fixed(style_cost={"name": "gaussian_w2", "eps": -1.0}), ("style_cost.eps", "positive number", "-1.0")
    ),
    "unknown_device": Case(fixed(device="tpu"), ("'tpu'", "auto, cpu, cuda")),
    "output_not_writable": Case(unwritable_output, ("a_file/out", "cannot be written")),
    "weights_missing": Case(
        fixed(weights="/nonexistent/vgg19.pth"), ("/nonexistent/vgg19.pth", "does not exist")
    ),
    "weights_not_a_state_dict": Case(
        weights_file(torch_save(lambda: [1, 2, 3])), ("weights.pth", "not a state dict")
    ),
    "weights_not_a_torch_file": Case(
        weights_file(lambda p: p.write_text("not a checkpoint")), ("weights.pth", "not a PyTorch checkpoint")
    ),
    "weights_wrong_architecture": Case(
        weights_file(torch_save(wrong_architecture)),
        ("weights.pth", "missing: 0.bias", "unexpected: head.weight", "wrong shape: 0.weight (8, 3, 3, 3)"),
    ),
    # One parser for every true/false setting; one range check for integers torch takes.
    "boolean_setting_not_a_boolean": Case(fixed(compile="yes"), ("compile", "true or false", "'yes'")),
    "tracking_switch_not_a_boolean": Case(
        fixed(**{"tracking.enabled": "maybe"}), ("tracking.enabled", "true or false", "'maybe'")
    ),
    "judge_switch_not_a_boolean": Case(fixed(judge=1), ("judge must be true or false, got 1",)),
    "negative_seed": Case(fixed(seed=-1), ("seed", "from 0 to 18446744073709551615", "manual_seed", "-1")),
    "seed_past_64_bits": Case(fixed(seed=2**64), ("seed", "from 0 to 18446744073709551615", str(2**64))),
    "plugin_integer_past_64_bits": Case(
        fixed(**{"backbone.weights_seed": 2**64}), ("backbone.weights_seed", "64-bit integer", str(2**64))
    ),
    # Numbers that are each finite but break the run: NaN options, weights whose sum overflows.
    "plugin_option_nan": Case(
        fixed(correlation={"name": "mean_shifted", "shift": float("nan")}),
        ("correlation.shift", "finite number", "nan"),
    ),
    "plugin_option_infinite": Case(
        fixed(**{"optimizer.lr": float("inf")}), ("optimizer.lr", "finite", "inf")
    ),
    "blend_sum_overflows": Case(two_styles(style_blend=[1e308, 1e308]), ("style_blend", "sum to infinity")),
    "layer_weights_sum_overflow": Case(
        fixed(style_layers={"relu1_1": 1e308, "relu2_1": 1e308}), ("style_layers", "sum to infinity")
    ),
    # Sizes whose working set cannot fit in any machine's memory, refused before any allocation.
    "image_size_beyond_memory": Case(
        fixed(image_size=10**7), ("image_size 10000000", "GiB per megapixel", "of memory available")
    ),
    "scales_beyond_memory": Case(
        fixed(scales=[64, 10**7]), ("scales[1] 10000000", "GiB per megapixel", "of memory available")
    ),
    "style_scale_beyond_memory": Case(
        fixed(style_scale=1e5), ("style_scale 100000.0", "GiB per megapixel", "of memory available")
    ),
    "input_image_beyond_memory": Case(
        lambda tmp: {
            **file_at("giant.png", lambda p: png_header_only(p, 2**31 - 1, 2**31 - 1))(tmp),
            "max_pixels": 2**63,
        },
        ("giant.png", "2147483647x2147483647", "to decode", "of memory available"),
    ),
    # A tracking store checked before any work: a server that does not answer, a deleted experiment.
    "tracking_server_silent": Case(silent_server, ("did not answer within 5 s", "tracking.enabled=false")),
    "tracking_uri_a_file": Case(
        tracking_at_a_file,
        ("notes.txt' is a file, not a directory", "must end in .db"),
    ),
    "tracking_uri_cannot_be_made": Case(
        fixed(**{"tracking.enabled": True, "tracking.uri": "/proc/nstx-runs"}),
        ("'/proc/nstx-runs' cannot be made a directory",),
    ),
    "tracking_experiment_deleted": Case(
        deleted_experiment, ("'gone' is deleted", "mlflow experiments restore --experiment-id")
    ),
}

CUDA_MISSING = Case(fixed(device="cuda"), ("'cuda'", "CUDA is not available"))
