"""A correlation plugin: channel-by-channel cosine similarity, as one plain function.

The Gram matrix of channel vectors scaled to unit length, so a layer's statistic no
longer depends on how strongly the layer fires: every layer counts on the same scale.
"""

from nstx.hookspecs import hookimpl


@hookimpl
def nstx_register_correlation(register):
    register("cosine", cosine)


def cosine(features, eps: float = 1e-8):
    """Cosine similarity between channels: (B, C, H, W) -> (B, C, C), ones on the diagonal."""
    f = features.flatten(2)
    f = f / f.norm(dim=-1, keepdim=True).clamp_min(eps)
    return f @ f.mT
