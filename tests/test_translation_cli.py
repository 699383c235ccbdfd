"""`gan-studio train-translation`, `translate` and `evaluate` on translation models, in process: a round trip from
training to a translated PNG, and the one-line refusals (wrong size or channels, unreadable image, a latent model)."""
from __future__ import annotations

import json

import numpy as np
from PIL import Image

from gan_studio.cli.main import main
from gan_studio.engine.bundle import read_metadata
from gan_studio.engine.translation import save_random_translator

TINY = '{"width": 4, "critic_width": 4, "blocks": 1}'


def one_line_error(capsys, argv, *words):
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Traceback" not in err[0], err
    for w in words:
        assert w in err[0], err[0]


def png(path, size, mode="L", value=0):
    Image.fromarray(np.full((size, size) if mode == "L" else (size, size, 3), value, np.uint8), mode).save(path)
    return path


def test_train_then_translate_then_evaluate(tmp_path, capsys, tiny_dataset):
    out = tmp_path / "p2p.safetensors"
    assert main(["train-translation", "--recipe", "pix2pix", "--data", str(tiny_dataset), "--limit", "32",
                 "--domains", "strokes,discs", "--out", str(out), "--steps", "2", "--batch", "4",
                 "--arch-config", TINY, "--threads", "1", "--quiet"]) == 0
    meta = read_metadata(out)
    assert meta["translation"]["domains"] == ["strokes", "discs"] and meta["training"]["step"] == 2
    capsys.readouterr()
    drawing = png(tmp_path / "d.png", 28)
    assert main(["translate", "--model", str(out), "--image", str(drawing), "--out", str(tmp_path / "o.png")]) == 0
    assert "strokes -> discs" in capsys.readouterr().out
    assert Image.open(tmp_path / "o.png").size == (28, 28)
    assert main(["translate", "--model", str(out), "--image", str(png(tmp_path / "digit.png", 28, value=255)),
                 "--derive", "--out", str(tmp_path / "o2.png")]) == 0            # a target image, made into strokes
    capsys.readouterr()
    assert main(["evaluate", "--model", str(out), "--data", str(tiny_dataset), "--split", "train", "--n", "20",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["family"] == "pix2pix" and result["n"] == 20 and 0 <= result["l1"] <= 1 and result["fid"] >= 0


def test_super_resolution_and_cycle_directions(tmp_path, capsys):
    sr = save_random_translator(tmp_path / "sr.safetensors", "srgan")
    assert main(["translate", "--model", str(sr), "--image", str(png(tmp_path / "s.png", 7)),
                 "--out", str(tmp_path / "up.png")]) == 0
    assert Image.open(tmp_path / "up.png").size == (28, 28)
    cyc = save_random_translator(tmp_path / "c.safetensors", "cyclegan", domains=("outlines", "digits"))
    assert main(["translate", "--model", str(cyc), "--image", str(png(tmp_path / "b.png", 28)), "--direction", "b2a",
                 "--out", str(tmp_path / "a.png")]) == 0
    assert "digits -> outlines" in capsys.readouterr().out
    one_line_error(capsys, ["translate", "--model", str(sr), "--image", str(tmp_path / "s.png"), "--direction", "b2a",
                            "--out", str(tmp_path / "x.png")], "translates a2b", "not 'b2a'")


def test_bad_inputs_are_one_line(tmp_path, capsys, shipped_model):
    model = save_random_translator(tmp_path / "p.safetensors", "pix2pix")
    base = ["translate", "--model", str(model), "--out", str(tmp_path / "o.png"), "--image"]
    one_line_error(capsys, base + [str(png(tmp_path / "big.png", 64))], "64x64", "28x28", "--fit")
    assert main(base + [str(png(tmp_path / "gray-rgb.png", 28, "RGB", 255))]) == 0   # gray saved as RGB is gray
    colour = np.zeros((28, 28, 3), np.uint8)
    colour[..., 0] = 200                                                  # red: not gray
    Image.fromarray(colour, "RGB").save(tmp_path / "red.png")
    one_line_error(capsys, base + [str(tmp_path / "red.png")], "colour image", "1-channel")
    (tmp_path / "junk.png").write_bytes(b"not an image at all")
    one_line_error(capsys, base + [str(tmp_path / "junk.png")], "junk.png", "not an image")
    one_line_error(capsys, base + [str(tmp_path / "missing.png")], "no such file")
    one_line_error(capsys, ["translate", "--model", str(shipped_model), "--image", str(tmp_path / "big.png"),
                            "--out", str(tmp_path / "o.png")], "image-generator", "not a translation model")
    assert main(base + [str(tmp_path / "big.png"), "--fit"]) == 0                 # --fit resizes it
    one_line_error(capsys, ["train-translation", "--recipe", "cyclegan", "--data", str(tmp_path / "nowhere"),
                            "--out", str(tmp_path / "c.safetensors"), "--steps", "1"], "does not exist")
