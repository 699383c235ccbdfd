"""Style mixing: layer parsing and presets, mix_ws, the mixing grid on any generator."""
from __future__ import annotations

import pytest
import torch

from gan_studio.engine.bundle import load_bundle
from gan_studio.engine.errors import UserError
from gan_studio.engine.latent.mixing import (
    format_layers,
    grid_canvas,
    latents_ws,
    mix_ws,
    mixing_grid,
    parse_layers,
    preset_bands,
    render_mixing,
    ws_resolutions,
)
from gan_studio.engine.latent.sampling import generate, seeds_latents, synthesize
from gan_studio.engine.latent.state import Latent
from gan_studio.engine.latent.walks import walk_ws
from tests.engine.test_stylegan import tiny_style_generator

RES32 = [4, 8, 8, 16, 16, 32, 32, 32]


def maxdiff(a, b) -> float:
    return (a - b).abs().max().item()


@pytest.mark.parametrize("text, want", [
    ("none", []), ("all", list(range(8))), ("coarse", [0, 1, 2]), ("middle", [3, 4]), ("fine", [5, 6, 7]),
    ("0-2", [0, 1, 2]), ("6", [6]), ("0-1, 5,7", [0, 1, 5, 7]), ("3-3,2", [2, 3]), (" Fine ", [5, 6, 7])])
def test_parse_layers_at_32_px(text, want):
    assert parse_layers(text, 8, RES32) == want


@pytest.mark.parametrize("layers", [[], [0, 1, 2], [0, 5, 6, 7], [3], list(range(8)), [1, 3, 5]])
def test_format_layers_reads_back(layers):
    text = format_layers(layers, 8)
    assert parse_layers(text, 8, RES32) == layers
    assert format_layers([0, 1, 2, 6]) == "0-2,6" and format_layers(range(8), 8) == "all"


@pytest.mark.parametrize("text, words", [("8", "out of range"), ("2-9", "out of range"), ("3-1", "before"),
                                         ("abc", "bad --layers"), ("1-", "bad --layers"), ("-1", "bad")])
def test_parse_layers_errors(text, words):
    with pytest.raises(UserError, match=words):
        parse_layers(text, 8, RES32)


def test_presets_generalise_by_resolution_band():
    res1024 = [4] + [r for r in (8, 16, 32, 64, 128, 256, 512, 1024) for _ in (0, 1)] + [1024]
    assert preset_bands(res1024) == {"coarse": [0, 1, 2], "middle": [3, 4, 5, 6], "fine": list(range(7, 18))}
    res64 = [4, 8, 8, 16, 16, 32, 32, 64, 64, 64]
    assert preset_bands(res64) == {"coarse": [0, 1, 2], "middle": [3, 4, 5, 6], "fine": [7, 8, 9]}
    with pytest.raises(UserError, match="no middle layers"):
        parse_layers("middle", 4, [4, 8, 8, 8])
    with pytest.raises(UserError, match="all or nothing"):
        parse_layers("coarse", 1, [28])
    assert parse_layers("all", 1, [28]) == [0] and parse_layers("0", 1, [28]) == [0]


def test_ws_resolutions_of_any_generator(tiny_model):
    assert ws_resolutions(tiny_style_generator()) == RES32
    assert ws_resolutions(load_bundle(tiny_model).generator()) == [28]


def test_mix_ws_takes_the_chosen_indices_from_the_column():
    a, b = torch.zeros(2, 8, 4), torch.ones(2, 8, 4)
    m = mix_ws(a, b, [1, 5])
    assert m[:, [1, 5]].eq(1).all() and m[:, [0, 2, 3, 4, 6, 7]].eq(0).all() and a.eq(0).all()
    assert torch.equal(mix_ws(a, b, []), a) and torch.equal(mix_ws(a, b, range(8)), b)
    with pytest.raises(UserError, match="cannot mix"):
        mix_ws(a, torch.ones(2, 7, 4), [0])


@pytest.fixture(scope="module")
def G():
    return tiny_style_generator()


def _ws(G, seeds, **kw):
    return G.mapping(seeds_latents(seeds, G.z_dim), **kw)


def test_grid_none_gives_rows_and_all_gives_columns(G):
    rows, cols = [1, 2, 3], [4, 5]
    row_imgs, col_imgs = generate(G, seeds_latents(rows, 16)), generate(G, seeds_latents(cols, 16))
    none = mixing_grid(G, _ws(G, rows), _ws(G, cols), parse_layers("none", 8, RES32))
    assert none.cells.shape == (3, 2, 1, 32, 32) and none.cell_ws.shape == (3, 2, 8, 16)
    assert maxdiff(none.row_images, row_imgs) <= 1e-5 and maxdiff(none.col_images, col_imgs) <= 1e-5
    for j in range(2):
        assert maxdiff(none.cells[:, j], row_imgs) <= 1e-5
    every = mixing_grid(G, _ws(G, rows), _ws(G, cols), parse_layers("all", 8, RES32))
    for i in range(3):
        assert maxdiff(every.cells[i], col_imgs) <= 1e-5
    coarse = mixing_grid(G, _ws(G, rows), _ws(G, cols), [0, 1, 2])
    assert maxdiff(coarse.cells[0, 0], row_imgs[0]) > 1e-3 and maxdiff(coarse.cells[0, 0], col_imgs[0]) > 1e-3
    assert maxdiff(synthesize(G, coarse.cell_ws[1, 1][None]), coarse.cells[1, 1][None]) <= 1e-5


def test_render_mixing_from_seed_and_ws_latents(G):
    seeds = [Latent.from_seed(s, 16) for s in (1, 2)]
    ws = latents_ws(G, seeds, truncation_psi=0.5, truncation_cutoff=4)
    assert torch.equal(ws, G.mapping(seeds_latents([1, 2], 16), truncation_psi=0.5, truncation_cutoff=4))
    a_mix = Latent(ws=mix_ws(ws[:1], ws[1:], [7]), source="mix")
    assert torch.equal(latents_ws(G, [seeds[0], a_mix], 0.5, 4)[1], a_mix.ws[0])   # ws sources as they are
    grid = render_mixing(G, [a_mix], seeds, [0, 1, 2], truncation_psi=0.5, truncation_cutoff=4)
    assert grid.cells.shape == (1, 2, 1, 32, 32)
    assert maxdiff(grid.row_images[0], synthesize(G, a_mix.ws)[0]) <= 1e-5


def test_grid_with_truncation_zero_is_one_image(G):
    grid = mixing_grid(G, _ws(G, [1, 2], truncation_psi=0.0), _ws(G, [3], truncation_psi=0.0), [0, 1, 2])
    flat = torch.cat([grid.row_images, grid.col_images, grid.cells.flatten(0, 1)])
    assert maxdiff(flat, flat[:1].expand_as(flat)) <= 1e-5


def test_grid_noise_modes(G):
    ws = _ws(G, [1, 2])
    a, b = mixing_grid(G, ws, ws, [5, 6, 7]), mixing_grid(G, ws, ws, [5, 6, 7])
    assert maxdiff(a.cells, b.cells) == 0.0
    r1, r2 = (mixing_grid(G, ws, ws, [5], noise_mode="random") for _ in range(2))
    assert maxdiff(r1.cells, r2.cells) > 1e-3
    assert maxdiff(mixing_grid(G, ws, ws, [5], noise_mode="none").cells, a.cells) > 1e-3


def test_grid_on_a_single_ws_generator_is_all_or_nothing(tiny_model):
    D = load_bundle(tiny_model).generator()
    rows, cols = D.mapping(seeds_latents([1, 2], D.z_dim)), D.mapping(seeds_latents([3], D.z_dim))
    none, every = mixing_grid(D, rows, cols, []), mixing_grid(D, rows, cols, [0])
    assert maxdiff(none.cells[:, 0], none.row_images) <= 1e-5
    assert maxdiff(every.cells[:, 0], every.col_images.expand(2, -1, -1, -1)) <= 1e-5
    with pytest.raises(UserError, match="out of range"):
        mixing_grid(D, rows, cols, [1])
    with pytest.raises(UserError, match="shape"):
        mixing_grid(D, rows[:, :, :3], cols, [])


def test_grid_canvas_is_the_papers_figure(G):
    grid = mixing_grid(G, _ws(G, [1, 2, 3]), _ws(G, [4, 5]), [0, 1])
    canvas = grid_canvas(grid, pad=2)
    assert canvas.shape == (1, 4 * 34 + 2, 3 * 34 + 2)
    assert canvas[:, 2:34, 2:34].eq(1).all()                                 # top-left blank
    assert torch.equal(canvas[:, 2:34, 36:68], grid.col_images[0])           # first row: column sources
    assert torch.equal(canvas[:, 36:68, 2:34], grid.row_images[0])           # first column: row sources
    assert torch.equal(canvas[:, 70:102, 70:102], grid.cells[1, 1])


def test_truncation_and_mixing_through_the_interface_reach_walks(G):
    """A mix is a ws Latent: walks in w and truncation with a cutoff work on it through mapping/synthesis."""
    ws_a, ws_b = _ws(G, [1]), _ws(G, [2])
    mixed = Latent(ws=mix_ws(ws_a, ws_b, [5, 6, 7]), source="mix", info={"row": 1, "col": 2, "layers": "fine"})
    frames = walk_ws(G, [Latent.from_seed(1, G.z_dim), mixed], 5)
    assert frames.shape == (5, 8, 16)
    assert maxdiff(frames[0], ws_a[0]) <= 1e-6 and maxdiff(frames[-1], mixed.ws[0]) <= 1e-6
    assert torch.equal(frames[2][:5], ws_a[0][:5])          # the unmixed layers stay the row source's
    cut = G.mapping(seeds_latents([1], 16), truncation_psi=0.0, truncation_cutoff=3)
    assert maxdiff(cut[0, :3], G.w_avg.expand(3, -1)) <= 1e-6 and torch.equal(cut[0, 3:], ws_a[0, 3:])
    assert synthesize(G, frames).shape == (5, 1, 32, 32)
