"""The Gram product's hand-written backward matches autograd's in value, and keeps the layout."""

import pytest
import torch

from nstx import ops


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
def test_outer_gradient_matches_autograd(layout):
    generator = torch.Generator().manual_seed(0)
    features = torch.rand(2, 8, 5, 6, generator=generator).contiguous(memory_format=layout)
    target = torch.rand(2, 8, 8, generator=generator)
    features.requires_grad_(True)

    def loss(outer):
        return ((outer(features.flatten(2)) - target) ** 2 * target).sum()

    expected = torch.autograd.grad(loss(lambda f: f @ f.mT / f.shape[-1]), features)[0]
    got = torch.autograd.grad(loss(ops.outer), features)[0]
    torch.testing.assert_close(got, expected)
    assert got.is_contiguous(memory_format=layout)
