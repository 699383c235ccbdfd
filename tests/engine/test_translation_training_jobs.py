"""The Training tab's Qt-free side of the image-to-image recipes (engine/jobs/translation_training.py): the data
check's counts and one-line problems for each data layout, the train-translation line, the preview's row titles, and
sample grids whose rows always hold SAMPLE_COLUMNS images (a domain of fewer images repeats them)."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from gan_studio.engine.jobs.training import command_line
from gan_studio.engine.jobs.translation_training import check_translation_data, preview_titles
from gan_studio.engine.translation import RECIPE_NAMES, recipe_class, translation_config
from gan_studio.engine.translation.recipe_base import SAMPLE_COLUMNS

TINY = {"width": 4, "critic_width": 4, "blocks": 1}


def _folder(path, names):
    path.mkdir(parents=True)
    for n in names:
        Image.fromarray(np.full((28, 28), 200, np.uint8), "L").save(path / f"{n}.png")
    return path


def test_the_check_counts_each_layout_and_says_what_is_wrong_in_one_line(tiny_dataset, tmp_path):
    def check(recipe, data, **options):
        return check_translation_data(translation_config(recipe, str(data), options=options), 0)[1:]
    info, err = check("pix2pix", tiny_dataset, transform="edges")
    assert not err and info.paired and (info.n_a, info.n_b) == (256, 256) and info.domains == ("edges", "images")
    info, _ = check("cyclegan", tiny_dataset, transform="edges", limit=100)
    assert (info.n_a, info.n_b) == (100, 100) and "unpaired" in info.describe()
    _folder(tmp_path / "ab" / "A", ["x1", "x2", "x3"])
    _folder(tmp_path / "ab" / "B", ["x1", "x2", "y9"])
    assert (check("pix2pix", tmp_path / "ab")[0].n_a, check("discogan", tmp_path / "ab")[0].n_b) == (2, 3)
    info, _ = check("srgan", tiny_dataset, transform="down4")
    assert (info.shape_a, info.shape_b) == ((1, 7, 7), (1, 28, 28))
    for recipe, data, options, words in [
            ("cyclegan", tiny_dataset, {"data_b": str(tmp_path / "nope")}, "domain B"),
            ("pix2pix", tmp_path / "nope", {}, "does not exist"),
            ("pix2pix", tiny_dataset, {"transform": "blur"}, "blur"),
            ("pix2pix", tiny_dataset, {"data_b": str(tiny_dataset)}, "unpaired"),
            ("pix2pix", tiny_dataset, {"transform": "edges", "domains": "one"}, "two names")]:
        info, err = check(recipe, data, **options)
        assert info is None and words in err and "\n" not in err, err


def test_the_line_gives_the_data_options_as_flags(tiny_dataset):
    cfg = translation_config("cyclegan", str(tiny_dataset), loss="hinge", arch_config={"width": 8},
                             options={"data_b": "b dir", "domains": "a,b", "limit": 10, "cycle_weight": 5.0},
                             steps=7, batch=2, lr=1e-4)
    line = command_line(cfg, "out.safetensors")
    assert line.startswith(f"gan-studio train-translation --recipe cyclegan --data {tiny_dataset} --data-b 'b dir' "
                           "--domains a,b --limit 10 --loss hinge --arch-config '{\"width\": 8}' "
                           "--options '{\"cycle_weight\": 5.0}' --lr 0.0001 --steps 7 --batch 2")
    assert command_line(cfg, "o", resume=True).endswith("--out o --resume")


def test_preview_titles_follow_the_recipe_and_the_domains(tiny_dataset):
    cfg = lambda r, **o: translation_config(r, str(tiny_dataset), options=o)  # noqa: E731
    assert preview_titles(cfg("pix2pix", domains="strokes,digits"))[0] == ["strokes (input)", "→ digits",
                                                                           "digits (target)"]
    assert preview_titles(cfg("dualgan"))[1] == ["images", "→ edges", "→ images (round trip)"]
    assert preview_titles(cfg("srresnet"))[0][1] == "bicubic (baseline)"


@pytest.mark.parametrize("recipe", RECIPE_NAMES)
def test_sample_rows_are_full_and_match_their_titles(recipe, tiny_dataset):
    from gan_studio.engine.training.recipes import RECIPES
    cls = recipe_class(recipe)
    options = {"limit": 5} | ({"content": "pixel"} if recipe == "srgan" else {})
    cfg = translation_config(recipe, str(tiny_dataset), options=options, arch_config=TINY, batch=2)
    torch.manual_seed(0)
    samples = RECIPES.get(recipe)(cfg, torch.device("cpu")).sample()
    assert len(samples) == SAMPLE_COLUMNS * sum(len(g) for g in cls.SAMPLE_ROWS)
