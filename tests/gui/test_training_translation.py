"""Issue 23 in the Training tab: the image-to-image recipes (pix2pix, CycleGAN, DiscoGAN, DualGAN, SRResNet, SRGAN)
under the "Image to image" kind, with their data the way `gan-studio train-translation` takes it (one source + a
transform, A/ and B/ folders, two sources), their losses and options; each trains a few steps from the tab with its
own loss curves and a preview of its translations, and writes a model that opens in the Translate tab and in
`gan-studio translate`; the command line shown is the CLI call that trains the same model; Stop keeps the work and
Start resumes it; bad data is one line in the tab. Tiny networks and data, one torch thread."""
from __future__ import annotations

import shlex

import numpy as np
import pytest
import torch
from PIL import Image
from PySide6.QtCore import Qt

from gan_studio.cli.main import main
from gan_studio.engine.bundle import load_bundle, read_metadata
from gan_studio.engine.jobs.translation_training import translation_command_line
from gan_studio.engine.translation import RECIPE_NAMES, Translator, recipe_class

T = 120_000
DATA_OPTIONS = {"transform", "data_b", "domains", "limit"}


@pytest.fixture(autouse=True)
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture
def panel(window):
    p = window.select_panel("training")
    p.form.set_kind("translation")
    return p


def _pngs(folder, names, seed=0, size=28):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    for n in names:
        px = np.zeros((size, size), np.uint8)
        y, x = rng.integers(4, size - 10, 2)
        px[y:y + 8, x:x + 8] = 255
        Image.fromarray(px, "L").save(folder / f"{n}.png")
    return folder


def _setup(qtbot, panel, recipe, data, mode="one", transform=None, data_b="", steps=2, options=None):
    """A tiny run: networks of width 4 (one residual block), 32 images a domain, batch 4, samples every step."""
    f, t = panel.form, panel.form.translation
    t.set_recipe(recipe)
    t.set_mode(mode)
    if transform:
        t.set_transform(transform)
    t.limit_box.setValue(32)
    for name, box in t._size_boxes.items():
        box.setValue({"width": 4, "critic_width": 4, "blocks": 1}.get(name, box.value()))
    for name, value in (options or {}).items():
        t.options_box.set_value(name, value)
    for box, value in ((f.batch_box, 4), (f.steps_box, steps), (f.sample_box, 1), (f.ckpt_box, 1000)):
        box.setValue(value)
    t.set_data_path(str(data), str(data_b))
    qtbot.waitUntil(lambda: t.data_info.text() not in ("", "checking…"), timeout=T)
    return t


def _run(qtbot, panel) -> str:
    with qtbot.waitSignal(panel.finished, timeout=T) as sig:
        qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
    return sig.args[0]


def test_the_recipes_are_offered_with_their_losses_options_and_data_modes(panel):
    f, t = panel.form, panel.form.translation
    assert not t.isHidden() and f.gan_part.isHidden() and panel.open_btn.text() == "Open in Translate"
    assert not f.fid_box.isEnabled()                                  # periodic FID is the latent models'
    assert [t.recipe_box.itemData(i) for i in range(t.recipe_box.count())] == list(RECIPE_NAMES)
    two = t.mode_box.model().item(t.mode_box.findData("two"))
    for name in RECIPE_NAMES:
        t.set_recipe(name)
        cls = recipe_class(name)
        assert [t.loss_box.itemText(i) for i in range(t.loss_box.count())] == list(cls.LOSSES_ALLOWED)
        assert set(t.options_box.boxes) == set(cls.options_table()) - DATA_OPTIONS
        assert two.isEnabled() == (not cls.PAIRED)
        assert t.transform_box.currentText() == cls.DEFAULT_TRANSFORM
        assert f.lr_box.value() == pytest.approx(t.hyper_defaults()[0])
        cfg = f.config("cpu")                                          # the recipe's defaults are left to it
        assert (cfg.arch, cfg.loss, cfg.lr, cfg.n_critic, cfg.arch_config) == (name, cls.LOSSES_ALLOWED[0], None,
                                                                              None, {})
        assert cfg.options == {"transform": cls.DEFAULT_TRANSFORM}
    t.set_recipe("srgan")
    t.options_box.set_value("content", "pixel")                       # a text option
    t.options_box.set_value("adv_weight", 0.01)
    assert f.config("cpu").options == {"transform": "down4", "content": "pixel", "adv_weight": pytest.approx(0.01)}
    f.set_kind("gan")
    assert t.isHidden() and not f.gan_part.isHidden() and f.config("cpu").arch == f.arch_box.currentText()


def test_the_command_line_is_the_cli_call_that_trains_the_same_model(panel, qtbot, tiny_dataset, tmp_path):
    t = _setup(qtbot, panel, "pix2pix", tiny_dataset, transform="edges", options={"l1_weight": 50.0})
    t.domains_edit.setText("edges,discs")
    t.domains_edit.editingFinished.emit()
    line = panel.cli.text()
    assert line == translation_command_line(panel.form.config("cpu"), panel.form.out_path())
    argv = shlex.split(line)
    assert argv[:4] == ["gan-studio", "train-translation", "--recipe", "pix2pix"]
    assert argv[argv.index("--transform") + 1] == "edges" and argv[argv.index("--domains") + 1] == "edges,discs"
    assert "--limit" in argv and '{"l1_weight": 50.0}' in argv
    assert _run(qtbot, panel) == "done"
    gui = panel.job.out
    assert read_metadata(gui)["training"]["command"] == panel.cli.text()          # the model records the line
    cli = tmp_path / "cli.safetensors"
    argv[argv.index("--out") + 1] = str(cli)
    assert main(argv[1:] + ["--threads", "1", "--quiet"]) == 0
    a, b = read_metadata(gui), read_metadata(cli)
    for key in ("arch", "config", "translation"):
        assert a[key] == b[key], key
    assert a["training"]["options"] == b["training"]["options"] and a["training"]["step"] == b["training"]["step"]
    na, nb = load_bundle(gui).networks, load_bundle(cli).networks
    assert set(na) == set(nb) == {"generator", "critic"}
    for role in na:                                                  # the same seeds: the same weights
        for (k, va), vb in zip(na[role].state_dict().items(), nb[role].state_dict().values()):
            assert torch.equal(va, vb), (role, k)


RUNS = {   # recipe -> (data mode, transform, the losses it logs)
    "pix2pix": ("ab", None, {"d_loss", "g_gan", "g_loss", "l1"}),
    "cyclegan": ("two", None, {"d_loss", "g_adv", "g_loss", "cycle", "identity"}),
    "discogan": ("ab", None, {"d_loss", "g_adv", "g_loss", "cycle"}),
    "dualgan": ("one", "edges", {"d_loss", "g_adv", "g_loss", "cycle"}),
    "srgan": ("one", "down4", {"d_loss", "g_adv", "content", "mse"}),
}


def _data(recipe, mode, tmp_path, tiny_dataset):
    if mode == "ab":                       # pix2pix: pairs by name; discogan: two domains of other names
        _pngs(tmp_path / "ab" / "A", [f"x{i}" for i in range(12)], seed=1)
        _pngs(tmp_path / "ab" / "B", [f"{'x' if recipe == 'pix2pix' else 'y'}{i}" for i in range(12)], seed=2)
        return tmp_path / "ab", ""
    if mode == "two":
        return _pngs(tmp_path / "a", [f"a{i}" for i in range(10)], seed=3), tiny_dataset
    return tiny_dataset, ""


@pytest.mark.parametrize("recipe", list(RUNS))
def test_each_recipe_trains_from_the_tab_and_opens_in_translate(recipe, panel, window, qtbot, tiny_dataset,
                                                                 tmp_path, capsys):
    mode, transform, losses = RUNS[recipe]
    data, data_b = _data(recipe, mode, tmp_path, tiny_dataset)
    options = {"content": "pixel"} if recipe == "srgan" else {}     # lenet-mnist is not in the test's resources
    t = _setup(qtbot, panel, recipe, data, mode, transform, data_b, steps=3, options=options)
    assert panel.data_info is not None, t.data_info.text()
    assert ("pairs" in t.data_info.text()) == recipe_class(recipe).PAIRED
    assert _run(qtbot, panel) == "done"
    panel.curves.flush()
    assert set(panel.curves.series) == losses and all(s.seen == 3 for s in panel.curves.series.values())
    if "g_loss" in losses:                 # the weighted objective on its own plot, beside the terms
        assert panel.curves._curves["g_loss"] in panel.curves.aux_plot.listDataItems()
    preview, rows = panel.stage.preview, sum(len(g) for g in recipe_class(recipe).SAMPLE_ROWS)
    assert preview.isVisible() and not panel.grid.isVisible()
    assert preview.row_count() == len(preview.titles()) == rows and preview.image_count() == rows * 8
    out = panel.job.out
    meta = read_metadata(out)
    assert meta["kind"] == "translation-model" and meta["arch"] == recipe and meta["training"]["step"] == 3
    tr = Translator.open(str(out))
    x = torch.zeros((1, *tr.input_shape)) - 1
    assert tuple(tr.translate(x).shape[1:]) == tuple(tr.output_shape)
    png = tmp_path / "in.png"
    Image.fromarray(np.zeros(tr.input_shape[1:], np.uint8), "L").save(png)
    direction = ["--direction", "b2a"] if tr.kind == "cycle" else []
    if tr.kind == "cycle":
        Image.fromarray(np.zeros(tr.output_shape[1:], np.uint8), "L").save(png)
    assert main(["translate", "--model", str(out), "--image", str(png), "--out", str(tmp_path / "o.png")]
                + direction) == 0
    qtbot.mouseClick(panel.open_btn, Qt.MouseButton.LeftButton)       # "Open in Translate"
    translate = window.panel("translate")
    qtbot.waitUntil(lambda: window.current_panel() is translate and translate.translator is not None
                    and translate.model_path == str(out.resolve()), timeout=T)


def test_stop_keeps_the_work_and_start_resumes_it(panel, window, qtbot, tiny_dataset, monkeypatch):
    _setup(qtbot, panel, "cyclegan", tiny_dataset, transform="edges", steps=100_000)
    qtbot.mouseClick(panel.start_btn, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.step >= 2 and panel.stage.preview.image_count() == 48, timeout=T)
    assert panel.stage.preview.titles()[:3] == ["edges", "→ images", "→ edges (round trip)"]
    with qtbot.waitSignal(panel.finished, timeout=T) as sig:
        qtbot.mouseClick(panel.stop_btn, Qt.MouseButton.LeftButton)
    assert sig.args == ["stopped"]
    out, stopped = panel.job.out, read_metadata(panel.job.out)["training"]["step"]
    assert stopped >= 2 and str(out.resolve()) in window.model_list.paths()
    panel.form.steps_box.setValue(stopped + 2)
    monkeypatch.setattr(panel, "ask_existing", lambda p: "resume")
    assert _run(qtbot, panel) == "done"
    meta = read_metadata(out)["training"]
    assert panel.job.out == out and meta["step"] == stopped + 2
    assert meta["command"].endswith(" --resume") and meta["history"][-1]["until_step"] == stopped
    assert panel.curves.series["cycle"].seen >= stopped + 2               # the resumed run's curves go on


def test_bad_data_is_one_line_in_the_tab(panel, window, qtbot, tiny_dataset, tmp_path):
    t = panel.form.translation
    t.set_recipe("cyclegan")
    t.set_mode("two")
    t.set_data_path(str(tiny_dataset), str(tmp_path / "nowhere"))
    assert t.data_info.text() == f"domain B {tmp_path / 'nowhere'} does not exist"
    assert not panel.start()
    assert window.banner.kind() == "error" and "does not exist" in window.banner.text()
    window.banner.dismiss()
    t.set_recipe("pix2pix")
    assert t.mode() == "one"                                       # two sources are for unpaired recipes
    t.set_mode("ab")
    t.set_data_path(str(tmp_path))
    assert t.data_info.text() == f"{tmp_path} has no A/ and B/ subfolders"
    _pngs(tmp_path / "pairs" / "A", ["a0", "a1"])                  # pairs that do not match by name
    _pngs(tmp_path / "pairs" / "B", ["b0", "b1"])
    t.set_data_path(str(tmp_path / "pairs"))
    qtbot.waitUntil(lambda: "share no file names" in t.data_info.text(), timeout=T)
    assert "\n" not in t.data_info.text() and panel.data_info is None
    with qtbot.waitSignal(panel.finished, timeout=T) as sig:
        assert panel.start()
    msg = window.banner.text()
    assert sig.args == ["failed"] and "share no file names" in msg and "Traceback" not in msg and "\n" not in msg
    assert panel.start_btn.isEnabled()
