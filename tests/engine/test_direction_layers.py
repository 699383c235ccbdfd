"""Layer ranges of w-space directions on style generators (GANSpace) and named presets: shifts move only the
chosen ws, files keep ranges and presets (old files load as "every layer"), bad values are one clear error."""
from __future__ import annotations

import json

import pytest
import torch

from gan_studio.engine.bundle import META_KEY, load_bundle
from gan_studio.engine.errors import ModelFileError, UserError
from gan_studio.engine.latent.directions import DirectionSet, apply_shifts, discover, load_directions, save_directions
from gan_studio.engine.latent.directions.layers import format_range, parse_range, range_presets
from gan_studio.engine.latent.directions.presets import (
    Preset,
    add_preset,
    directions_hash,
    export_preset,
    import_preset,
    make_preset,
    resolve_preset,
)
from tests.conftest import make_tiny_bundle
from tests.engine.test_stylegan import make_tiny_style_bundle, tiny_style_generator


@pytest.fixture(scope="module")
def G():
    return tiny_style_generator()            # 8 ws at [4, 8, 8, 16, 16, 32, 32, 32] px


def _ds(G, **kw):
    return DirectionSet(torch.randn(4, G.w_dim, generator=torch.Generator().manual_seed(1)), "random", "w", **kw)


def _changed_layers(a, b) -> list[int]:
    return [i for i in range(a.shape[1]) if (a[:, i] - b[:, i]).abs().max() > 0]


def test_presets_and_typed_ranges(G):
    assert range_presets([4, 8, 8, 16, 16, 32, 32, 32]) == {"all": (0, 8), "coarse": (0, 3), "middle": (3, 5),
                                                            "fine": (5, 8)}
    assert parse_range("coarse", G) == (0, 3) and parse_range(" 0-4 ", G) == (0, 5) and parse_range("6", G) == (6, 7)
    assert format_range((0, 3), G) == "coarse" and format_range((2, 5), G) == "2-4" and format_range((6, 7), G) == "6"
    for bad, words in (("0-8", "out of range"), ("4-2", "before the start"), ("top", "bad layer range")):
        with pytest.raises(UserError, match=words):
            parse_range(bad, G)
    with pytest.raises(UserError, match="no middle layers"):        # a 16 px generator: 4-8 px coarse, 16 px fine
        parse_range("middle", tiny_style_generator(img_resolution=16))


def test_a_range_shifts_only_its_layers(G):
    ds = _ds(G, layers={1: (0, 3), 2: (5, 8)})
    z = torch.randn(3, G.z_dim, generator=torch.Generator().manual_seed(0))
    ws = G.mapping(z)
    _, one = apply_shifts(G, ds, ws=ws, shifts={1: 2.0})
    assert _changed_layers(one, ws) == [0, 1, 2]
    assert torch.allclose(one[:, :3] - ws[:, :3], (2.0 * ds.directions[1]).expand(3, 3, -1), atol=1e-6)
    _, two = apply_shifts(G, ds, ws=ws, shifts={1: 2.0, 2: -1.5, 0: 0.5})   # direction 0: every layer
    want = ws.clone()
    want[:, 0:3] += 2.0 * ds.directions[1]
    want[:, 5:8] += -1.5 * ds.directions[2]
    want += 0.5 * ds.directions[0]
    assert torch.allclose(two, want, atol=1e-5)
    kind, from_z = apply_shifts(G, ds, z=z, shifts={2: -1.5})               # z in, ws out, same layers
    assert kind == "ws" and _changed_layers(from_z, ws) == [5, 6, 7]
    _, over = apply_shifts(G, ds, ws=ws, shifts={1: 2.0}, layers={1: (3, 5)})   # a call overrides the file
    assert _changed_layers(over, ws) == [3, 4]
    _, every = apply_shifts(G, ds, ws=ws, shifts={1: 2.0}, layers={1: (0, 8)})
    _, plain = apply_shifts(G, _ds(G), ws=ws, shifts={1: 2.0})
    assert _changed_layers(every, ws) == list(range(8)) and torch.equal(every, plain)


def test_ranges_do_not_apply_to_z_directions_or_one_layer_generators(tmp_path):
    dc = load_bundle(make_tiny_bundle(tmp_path / "dc.safetensors")).generator()
    ds = DirectionSet(torch.eye(dc.z_dim)[:3], "coordinate")
    with pytest.raises(UserError, match="live in z"):
        apply_shifts(dc, ds, z=torch.zeros(1, dc.z_dim), shifts={0: 1.0}, layers={0: (0, 1)})
    with pytest.raises(ValueError, match="z-space"):
        DirectionSet(torch.eye(4), "coordinate", "z", layers={0: (0, 1)})
    style = tiny_style_generator()
    with pytest.raises(UserError, match="beyond this generator"):
        apply_shifts(style, _ds(style), ws=style.mapping(torch.zeros(1, style.z_dim)), shifts={0: 1.0},
                     layers={0: (2, 9)})


def test_file_round_trip_keeps_ranges_and_presets_and_old_files_move_every_layer(tmp_path):
    path = make_tiny_style_bundle(tmp_path / "style.safetensors")
    G = load_bundle(path).generator()
    ds = next(p for p in discover(G, "sefa", 4) if "result" in p)["result"]
    assert ds.space == "w"
    ds.layers = {1: (0, 3), 3: (5, 8)}
    ds.starred = [2]
    add_preset(ds, make_preset(ds, "smile", {1: 2.5, 0: -1.0}))
    out = save_directions(tmp_path / "d.safetensors", ds)
    back = load_directions(out, G)
    assert back.layers == {1: (0, 3), 3: (5, 8)} and torch.equal(back.directions, ds.directions)
    assert directions_hash(back) == directions_hash(ds), "a save and load changed the directions"
    (p,) = back.presets
    assert (p.name, p.shifts, p.layers, p.starred) == ("smile", {0: -1.0, 1: 2.5, 2: 0.0}, {1: (0, 3)}, [2])
    assert p.names == {0: "direction 0", 1: "direction 1", 2: "direction 2"}
    old = _rewrite_meta(out, tmp_path / "old.safetensors", drop=("layers", "presets"))
    legacy = load_directions(old, G)
    assert legacy.layers == {} and legacy.presets == []
    ws = G.mapping(torch.randn(2, G.z_dim))
    _, moved = apply_shifts(G, legacy, ws=ws, shifts={1: 2.0})
    assert _changed_layers(moved, ws) == list(range(8))


def _rewrite_meta(src, dst, drop=(), **changes):
    """A copy of a directions file with metadata keys dropped or replaced (old files, hand-edited files)."""
    from safetensors.torch import load_file, save_file

    from gan_studio.engine.bundle import read_metadata
    meta = {k: v for k, v in read_metadata(src).items() if k not in drop} | changes
    save_file(load_file(str(src)), str(dst), metadata={META_KEY: json.dumps(meta)})
    return dst


@pytest.mark.parametrize("changes,words", [
    ({"layers": {"1": [2, 1]}}, "empty or negative"),
    ({"layers": {"1": [0, "3"]}}, "two integers"),
    ({"layers": {"x": [0, 3]}}, "not an integer"),
    ({"layers": {"7": [0, 3]}}, "out of range 0..3"),
    ({"layers": [[0, 3]]}, "must be a (mapping|JSON object)"),
    ({"layers": {"1": [0, 9]}}, "beyond this generator's ws 0-7"),
    ({"presets": [{"name": "a", "shifts": [{"index": 9, "amount": 1}]}]}, "out of range"),
    ({"presets": [{"name": "a", "shifts": [{"index": 0, "amount": "big"}]}]}, "must be a finite number"),
    ({"presets": [{"shifts": []}]}, "non-empty 'name'"),
    ({"presets": [{"name": "a", "shifts": [{"index": 0, "amount": 1, "layers": [0, 12]}]}]}, "beyond"),
])
def test_bad_values_in_a_file_are_one_model_file_error(tmp_path, changes, words):
    path = make_tiny_style_bundle(tmp_path / "style.safetensors")
    G = load_bundle(path).generator()
    good = save_directions(tmp_path / "good.safetensors", _ds(G))
    bad = _rewrite_meta(good, tmp_path / "bad.safetensors", **changes)
    with pytest.raises(ModelFileError, match=words) as err:
        load_directions(bad, G)
    assert str(err.value).startswith("bad.safetensors: ") and "\n" not in str(err.value)


def test_ranges_in_a_z_space_file_are_refused(tmp_path):
    good = save_directions(tmp_path / "z.safetensors", DirectionSet(torch.eye(6)[:2], "coordinate", "z"))
    bad = _rewrite_meta(good, tmp_path / "zbad.safetensors", layers={"0": [0, 1]})
    with pytest.raises(ModelFileError, match="z-space directions"):
        load_directions(bad)


def test_exported_presets_only_import_for_their_directions(tmp_path, G):
    ds = _ds(G, layers={2: (3, 5)}, generator_hash="gen-a")
    ds.names[2] = "age"
    preset = make_preset(ds, "older", {2: 3.0})
    out = export_preset(tmp_path / "older.json", ds, preset, "faces.safetensors")
    doc = json.loads(out.read_text())
    assert doc["kind"] == "direction-preset" and doc["directions_file"] == "faces.safetensors"
    assert doc["preset"]["shifts"] == [{"index": 2, "amount": 3.0, "layers": [3, 5]}]
    back = import_preset(out, ds)
    assert (back.shifts, back.layers, back.names) == ({2: 3.0}, {2: (3, 5)}, {2: "age"})
    assert resolve_preset(ds, str(out)).shifts == {2: 3.0}
    other_dirs = DirectionSet(torch.randn(4, G.w_dim), "random", "w", generator_hash="gen-a")
    with pytest.raises(UserError, match="other directions .faces.safetensors"):
        import_preset(out, other_dirs)
    other_gen = DirectionSet(ds.directions.clone(), "random", "w", generator_hash="gen-b")
    with pytest.raises(UserError, match="another generator"):
        import_preset(out, other_gen)
    with pytest.raises(UserError, match="no preset named 'older'"):
        resolve_preset(ds, "older")
    add_preset(ds, back)
    assert resolve_preset(ds, "older") is back


@pytest.mark.parametrize("text,words", [
    ("{not json", "not a readable preset file"),
    ('{"kind": "directions"}', "not a direction preset"),
    ('[1, 2]', "not a direction preset"),
    ('{"kind": "direction-preset", "schema_version": 99}', "schema version 99"),
])
def test_corrupt_preset_files_are_one_clear_error(tmp_path, G, text, words):
    f = tmp_path / "p.json"
    f.write_text(text)
    with pytest.raises(ModelFileError, match=words) as err:
        import_preset(f, _ds(G))
    assert "\n" not in str(err.value)


def test_a_preset_needs_a_name_and_something_to_save(G):
    ds = _ds(G)
    with pytest.raises(UserError, match="needs a name"):
        make_preset(ds, "  ", {0: 1.0})
    with pytest.raises(UserError, match="nothing to save"):
        make_preset(ds, "empty", {0: 0.0})
    assert Preset.from_json(make_preset(ds, "x", {1: 1.0}).to_json(), 4).shifts == {1: 1.0}
