"""A style cost plugin: the Charbonnier distance between statistics, as one plain function.

An L1-like cost that stays smooth at zero: a few large differences pull less than with
the squared error, and small ones still have a gradient.
"""

from nstx.hookspecs import hookimpl


@hookimpl
def nstx_register_style_cost(register):
    register("charbonnier", charbonnier)


def charbonnier(statistic, target, eps: float = 1e-3):
    """The mean of sqrt((G - A)² + eps²) over the entries of the statistics."""
    return ((statistic - target).pow(2) + eps**2).sqrt().mean()
