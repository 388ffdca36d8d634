"""The Gram product and its hand-written backward match autograd's, keep the layout, and let
autograd add a second gradient into it in place."""

import pytest
import torch

from nstx.loss import ops


@pytest.mark.parametrize("layout", [torch.contiguous_format, torch.channels_last])
@pytest.mark.parametrize("batch", [1, 2], ids=["one-map", "two-maps"])
@pytest.mark.parametrize("channels", [8, ops.THIN_CHANNELS + 32], ids=["thin", "wide"])
def test_outer_matches_autograd(layout, batch, channels):
    generator = torch.Generator().manual_seed(0)
    features = torch.rand(batch, channels, 5, 6, generator=generator).contiguous(memory_format=layout)
    target = torch.rand(batch, channels, channels, generator=generator)
    features.requires_grad_(True)

    def reference(f):
        flat = f.flatten(2)
        return flat @ flat.mT / flat.shape[-1]

    def loss(outer):
        return ((outer(features) - target) ** 2 * target).sum()

    torch.testing.assert_close(ops.outer(features), reference(features))
    expected = torch.autograd.grad(loss(reference), features)[0]
    got = torch.autograd.grad(loss(ops.outer), features)[0]
    torch.testing.assert_close(got, expected)
    assert got.is_contiguous(memory_format=layout)


def test_a_tapped_map_gets_its_gradients_summed_in_place():
    """A map feeding both the next layer and a Gram matrix: one in-place add, no new tensor."""
    image = torch.rand(1, 3, 16, 16, requires_grad=True)
    first = torch.nn.Conv2d(3, 8, 3, padding=1).to(memory_format=torch.channels_last)
    second = torch.nn.Conv2d(8, 8, 3, padding=1).to(memory_format=torch.channels_last)
    tapped = first(image).relu()
    loss = ops.outer(tapped).square().sum() + second(tapped).sum()
    with torch.profiler.profile(record_shapes=True) as profile:
        loss.backward()
    adds = {
        event.key
        for event in profile.key_averages(group_by_input_shape=True)
        if event.key in ("aten::add", "aten::add_") and event.input_shapes[:1] == [[1, 8, 16, 16]]
    }
    assert adds == {"aten::add_"}
