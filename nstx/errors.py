"""Why a run stopped early: bad input, a failing plugin, divergence or a termination signal.

The CLI prints :class:`InputError` as one line (exit code 2); the others end the run
FAILED or KILLED with their message recorded.
"""


class InputError(ValueError):
    """A value given by the user cannot be used; the message names it and what is accepted."""


class PluginError(RuntimeError):
    """A plugin raised; the message names its kind, its name and the plugin that registered it."""


class DivergedError(ArithmeticError):
    """The loss or the image became NaN or infinite; the last finite image was kept."""

    def __init__(self, step: int, reason: str) -> None:
        super().__init__(f"diverged at step {step}: {reason} (lower the learning rate or the loss weights)")
        self.step = step
        self.reason = reason

    def __reduce__(self) -> tuple[type, tuple[int, str]]:
        # Pickled back from joblib/submitit workers with its fields, not its message.
        return type(self), (self.step, self.reason)


class Terminated(KeyboardInterrupt):
    """SIGTERM arrived: handled like Ctrl-C, so the current image is saved and the run ends KILLED."""
