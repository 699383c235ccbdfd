"""The training form starts at `TrainConfig`'s defaults (the table `gan-studio train` is built from too) and shows
its fields' tooltips; only the settings named in FORM_DEFAULTS (and the architecture's size, GUI_DEFAULTS) start
differently. Fails if someone types another default into the form instead of changing the one table."""
from __future__ import annotations

from gan_studio.engine.config import options_of
from gan_studio.engine.training.loop import TrainConfig
from gan_studio.gui.widgets.training_form import FORM_DEFAULTS, GUI_DEFAULTS, TrainingForm


def test_the_untouched_form_describes_trainconfigs_defaults(qtbot):
    form = TrainingForm()
    qtbot.addWidget(form)
    table = options_of(TrainConfig)
    assert set(FORM_DEFAULTS) <= set(table)
    cfg = form.config()
    for name, o in table.items():
        if name == "arch_config":
            assert cfg.arch_config == GUI_DEFAULTS.get(cfg.arch, {})
        else:
            assert getattr(cfg, name) == FORM_DEFAULTS.get(name, o.default), name


def test_the_forms_tooltips_are_the_fields_tips(qtbot):
    form = TrainingForm()
    qtbot.addWidget(form)
    table = options_of(TrainConfig)
    boxes = {"data": form.data_edit, "reg_weight": form.reg_weight, "lr": form.lr_box, "n_critic": form.n_critic_box,
             "batch": form.batch_box, "steps": form.steps_box, "seed": form.seed_box, "sample_every": form.sample_box,
             "checkpoint_every": form.ckpt_box, "max_minutes": form.minutes_box, **form.code_boxes}
    for name, box in boxes.items():
        assert box.toolTip() == table[name].tooltip and box.toolTip(), name
