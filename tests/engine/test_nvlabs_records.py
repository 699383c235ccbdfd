"""The bench's StyleGAN2-ADA record builder encodes the original constructor: the fixture's constructor arguments
give exactly the fixture pickle's record tree (names, classes, plain attributes, tensor shapes)."""
from __future__ import annotations

import json

import torch

from bench.nvlabs_records import stylegan2_record
from gan_studio.engine.models.nvlabs.family import generator_from_record, record_to_tree
from gan_studio.engine.models.nvlabs.unpickle import load_network_pickle
from tests.engine.test_nvlabs import FIX, needs_fix


@needs_fix
def test_builder_gives_the_fixture_tree():
    entry = json.loads((FIX / "index.json").read_text())[0]
    assert entry["file"] == "stylegan2-ada-32-rgb.pkl"
    kw = entry["generator_kwargs"]
    built = stylegan2_record(kw["img_resolution"], kw["img_channels"], kw["z_dim"], kw["w_dim"],
                             kw["mapping_kwargs"]["num_layers"], **kw["synthesis_kwargs"])
    want = record_to_tree(load_network_pickle(FIX / entry["file"])["G_ema"])
    assert record_to_tree(built) == want


def test_other_sizes_build_and_render():
    G = generator_from_record(stylegan2_record(64, 1, 32, 32, 2, channel_base=1024, channel_max=64))
    with torch.no_grad():
        img = G(torch.randn(2, 32))
    assert img.shape == (2, 1, 64, 64) and torch.isfinite(img).all() and G.num_ws == 10
