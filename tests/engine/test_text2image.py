"""Text to image (GAN-CLS / GAN-INT-CLS): generated captions, the word-level text encoder, the matching-aware
loss, a few training steps on tiny data, then sampling and walking with --text through the CLI."""
from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from gan_studio.engine.data import captions as cap
from gan_studio.engine.errors import UserError
from gan_studio.engine.models.text_encoder import decode, encode, tokenize
from gan_studio.engine.training.recipe_text import generator_loss, matching_aware_losses

TINY = {"width": 8, "z_dim": 16, "embed_dim": 8, "text_dim": 16, "cond_dim": 8}


def _bar(width: int, height: int = 18, shear: float = 0.0) -> np.ndarray:
    """A white bar `width` px wide and `height` tall, centred, its top shifted right by shear px per row."""
    img = np.zeros((28, 28), np.uint8)
    top = (28 - height) // 2
    for y in range(top, top + height):
        x0 = int(round(14 - width / 2 + shear * (top + height / 2 - y)))
        img[y, max(x0, 0):max(x0 + width, 0)] = 255
    return img


# ------------------------------------------------------------------ captions

def test_measured_attributes_of_hand_made_bars():
    thin, thick = cap.measure(np.stack([_bar(2), _bar(6)]))
    assert thin[0] == pytest.approx(2 * 36 / 40, abs=1e-4) and thick[0] > 2 * thin[0]   # 2A/P ≈ the width
    assert thick[2] > thin[2]                                                         # wider ink
    right, left, upright = cap.measure(np.stack([_bar(3, shear=0.4), _bar(3, shear=-0.4), _bar(3)]))
    assert right[1] > 0.3 and left[1] < -0.3 and abs(upright[1]) < 1e-6
    assert abs(right[2] - upright[2]) < 1.0                     # the slant is sheared away from the width
    short, tall = cap.measure(np.stack([_bar(3, height=10), _bar(3, height=20)]))
    assert tall[3] > short[3] + 5


def test_words_follow_the_buckets_of_hand_made_bars():
    images = np.stack([_bar(2), _bar(6), _bar(3, shear=0.4), _bar(3, shear=-0.4)])
    attrs = cap.measure(images)
    cuts = np.tile(np.array([[[2.5, 3.5], [-0.05, 0.15], [3.0, 5.0], [15.0, 19.0]]], np.float32), (10, 1, 1))
    b = cap.buckets(attrs, np.full(4, 1), cuts)
    assert b[0, 0] == 0 and b[1, 0] == 2                        # thin, thick
    assert b[2, 1] == 2 and b[3, 1] == 0                        # leaning right, leaning left
    assert cap.phrase(7, (2, 2, -1, -1), cap.TRAIN_TEMPLATES[0], numeral=False) == "a thick seven leaning right"
    assert cap.phrase(0, (0, 1, -1, -1), cap.TRAIN_TEMPLATES[1], numeral=True) == "thin 0 upright"
    assert cap.phrase(4, (0, -1, 2, -1), cap.TRAIN_TEMPLATES[3], numeral=True) == "a 4 that is thin and wide"


def test_captions_are_deterministic_and_hold_out_templates_and_combinations(mnist_dir):
    from gan_studio.engine.data import load_images
    d = load_images(mnist_dir, "test")
    imgs, labels = d.images[:1500].numpy(), d.labels[:1500].numpy()
    a = cap.caption_set(imgs, labels, variants=2, seed=3)
    b = cap.caption_set(imgs, labels, variants=2, seed=3)
    assert a.captions == b.captions
    assert [c.text for c in cap.caption_set(imgs, labels, seed=4).captions[0]] != [c.text for c in a.captions[0]]
    train = [c for row in a.captions for c in row]
    assert all(c.template < len(cap.TRAIN_TEMPLATES) for c in train)
    for c in train:
        words = set(c.text.replace(",", " ").split())
        for w1, w2 in cap.HELD_OUT:
            assert not (set(w1.split()) <= words and set(w2.split()) <= words), c.text
    asked = np.array([c.asked for c in a.captions[0]])
    named = asked >= 0
    assert (asked[named] == a.buckets[named]).all()             # a caption names its image's own buckets
    assert 0.2 < named.mean() < 0.6
    test = cap.caption_set(imgs, labels, seed=3, test=True, cuts=a.cuts).captions[0]
    assert {c.template for c in test} == {4, 5}
    held = cap.held_out_captions(20)
    assert all(any(w in c.text for w in ("thick", "wide")) for c in held)


# ------------------------------------------------------------------ text encoder

def test_tokenise_ids_words_round_trip_and_unknown_words():
    texts = ["a Thick seven, leaning right", "thin, upright 0"]
    ids = encode(cap.VOCAB, texts, 16)
    assert ids.shape == (2, 5) and ids[1, 3:].eq(0).all()
    assert decode(cap.VOCAB, ids) == [tokenize(t) for t in texts]
    assert tokenize(texts[1]) == ["thin", "upright", "0"]
    with pytest.raises(UserError) as exc:
        encode(cap.VOCAB, ["a purple 4 with dots"], 16)
    msg = str(exc.value)
    assert "\n" not in msg and "dots, purple, with" in msg and "known words: 0, 1" in msg
    with pytest.raises(UserError, match="at most 3"):
        encode(cap.VOCAB, ["a thin 4 leaning left"], 3)


def test_matching_aware_loss_terms_against_hand_values():
    logit = lambda p: math.log(p / (1 - p))        # noqa: E731
    s_r, s_w, s_f = (torch.tensor([logit(p) for p in ps]) for ps in ((0.8, 0.6), (0.3, 0.1), (0.4, 0.2)))
    t = matching_aware_losses(s_r, s_w, s_f)
    log_r = (math.log(0.8) + math.log(0.6)) / 2
    log_w = (math.log(0.7) + math.log(0.9)) / 2
    log_f = (math.log(0.6) + math.log(0.8)) / 2
    assert t["log_s_r"].item() == pytest.approx(log_r, abs=1e-6)
    assert t["L_D"].item() == pytest.approx(log_r + (log_w + log_f) / 2, abs=1e-6)
    assert t["d_loss"].item() == pytest.approx(-(log_r + (log_w + log_f) / 2), abs=1e-6)
    assert generator_loss(s_f).item() == pytest.approx(-(math.log(0.4) + math.log(0.2)) / 2, abs=1e-6)


def test_generator_reads_captions_into_ws():
    from gan_studio.engine.models import build
    torch.manual_seed(0)
    G = build("gan-cls", "generator", TINY | {"vocab": list(cap.VOCAB)}).eval()
    z = torch.randn(3, 16)
    a, b = G.mapping(z, G.tokenize_captions(["a thin 4"])), G.mapping(z, G.tokenize_captions(["a thick 4"]))
    assert a.shape == (3, 1, 24) and torch.equal(a[:, 0, :16], z) and not torch.allclose(a[:, 0, 16:], b[:, 0, 16:])
    assert torch.allclose(a[0, 0, 16:], a[2, 0, 16:])           # one caption, the same embedding for every z
    default = G.mapping(z)                                      # no caption: "a K", K = argmax z[:10]
    k = int(z[0, :10].argmax())
    assert torch.allclose(default[0], G.mapping(z[:1], G.tokenize_captions([f"a {k}"]))[0])
    assert G.mapping(z, truncation_psi=0.5)[:, 0, :16].sub(z / 2).abs().max() < 1e-6
    with torch.no_grad():                                       # zeroed words (unseen in training) are padding
        for w in ("an", "image", "of"):
            G.condition.encoder.embed.weight[cap.VOCAB.index(w) + 1] = 0
    assert torch.allclose(G.mapping(z, G.tokenize_captions(["an image of a thin 4"])), a, atol=1e-6)
    from gan_studio.engine.latent.directions.core import z_shift_in_ws
    shift = z_shift_in_ws(G, torch.ones(16))                   # a z direction moves z, keeps the caption
    assert shift.shape == (24,) and shift[:16].eq(1).all() and shift[16:].eq(0).all()


# ------------------------------------------------------------------ training, then the CLI

@pytest.mark.slow
def test_a_few_steps_then_sample_and_walk_with_text(tiny_dataset, tmp_path, capsys):
    from gan_studio.cli.main import main
    from gan_studio.engine.bundle import load_bundle
    from gan_studio.engine.latent.sampling import seeds_latents
    from gan_studio.engine.latent.text import caption_images
    out = tmp_path / "t2i.safetensors"
    assert main(["train", "--arch", "gan-cls", "--loss", "gan-int-cls", "--data", str(tiny_dataset), "--steps", "3",
                 "--batch", "16", "--arch-config", json.dumps(TINY), "--out", str(out), "--quiet",
                 "--options", '{"r1_every": 2}']) == 0
    assert main(["train", "--arch", "gan-cls", "--loss", "gan-int-cls", "--data", str(tiny_dataset), "--steps", "4",
                 "--batch", "16", "--arch-config", json.dumps(TINY), "--out", str(out), "--quiet", "--resume",
                 "--options", '{"r1_every": 2, "shared_encoder": true}']) == 0
    b = load_bundle(out)
    for k, v in b.networks["critic"].condition.encoder.state_dict().items():     # G reads D's text encoder
        assert torch.equal(b.networks["generator"].condition.encoder.state_dict()[k], v)
    assert b.meta["training"]["history"][0]["until_step"] == 3
    assert b.meta["text"]["vocab"] == list(cap.VOCAB) == b.meta["config"]["vocab"]
    assert b.meta["training"]["step"] == 4 and set(b.networks) == {"generator", "critic", "generator_ema"}
    npy = tmp_path / "fours.npy"
    assert main(["sample", "--model", str(out), "--text", "a thin upright 4", "--seed", "5", "--n", "3",
                 "--out", str(npy)]) == 0
    got = torch.from_numpy(np.load(npy))
    want = caption_images(b.generator(), "a thin upright 4", seeds_latents([5, 6, 7], 16))
    assert torch.allclose(got, want, atol=1e-5)
    assert main(["sample", "--model", str(out), "--text", "a thin 4", "--seed", "5", "--out",
                 str(tmp_path / "g.png")]) == 0
    capsys.readouterr()
    assert main(["sample", "--model", str(out), "--text", "a purple 4", "--seed", "0", "--out",
                 str(tmp_path / "x.png")]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "unknown word purple" in err and "known words:" in err
    walk = tmp_path / "walk.npy"
    assert main(["walk", "--model", str(out), "--seeds", "5", "--text", "a thin 1", "--text", "a thick 7",
                 "--frames", "5", "--out", str(walk)]) == 0
    frames = torch.from_numpy(np.load(walk))
    ends = torch.cat([caption_images(b.generator(), t, seeds_latents([5], 16)) for t in ("a thin 1", "a thick 7")])
    assert frames.shape[0] == 5 and torch.allclose(frames[[0, -1]], ends, atol=1e-5)
    assert main(["sample", "--model", str(out), "--text", "a 4", "--seed", "0", "--drs", "--out",
                 str(tmp_path / "y.png")]) == 2
