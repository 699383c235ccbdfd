"""The command line is built from the engine's tables of defaults and help: `gan-studio train` from `TrainConfig`'s
fields, `gan-studio walk` from the Walks tab's `engine.jobs.walks` defaults. These fail if someone types a
different default (or help) into the CLI instead of changing the one table; and every command still registers."""
from __future__ import annotations

import argparse
import json

from gan_studio.cli.common import COMMANDS
from gan_studio.cli.main import HELP_ORDER, build_parser
from gan_studio.engine.config import options_of
from gan_studio.engine.jobs import walks
from gan_studio.engine.training.loop import TrainConfig


def _subparser(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


def _actions(sp: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    return {a.dest: a for a in sp._actions}


def test_every_command_registers_and_is_listed():
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    assert set(HELP_ORDER) <= set(COMMANDS) == set(sub.choices)
    assert list(sub.choices)[:len(HELP_ORDER)] == list(HELP_ORDER)


def test_train_arguments_are_trainconfigs_fields_with_its_defaults_and_help():
    sp = _subparser("train")
    actions = _actions(sp)
    table = {n: o for n, o in options_of(TrainConfig).items() if o.cli.get("flag") is not False}
    assert set(table) == set(actions) - {"help", "out", "resume", "quiet"}
    args = sp.parse_args(["--data", "d", "--loss", "ns", "--steps", "7", "--out", "o.safetensors"])
    required = set()
    for name, o in table.items():
        a = actions[name]
        assert a.option_strings == [o.flag] and a.help == o.help, name
        if a.required:
            required.add(name)
            continue
        value = getattr(args, name)
        assert (json.loads(value) if o.type is dict else value) == o.default, name
        if o.type in (int, float):                # typed and ranged from the table's bounds (cli/args.option_type)
            assert a.type("1") == o.type(1) and isinstance(a.type("1"), o.type), name
        else:
            assert a.type is None, name
    assert required == {"data", "loss", "steps"}
    assert TrainConfig.from_dict({n: getattr(args, n) if table[n].type is not dict else json.loads(getattr(args, n))
                                  for n in table}) == TrainConfig(data="d", loss="ns", steps=7)


def test_walk_arguments_have_the_walks_tabs_defaults():
    sp = _subparser("walk")
    actions = _actions(sp)
    args = sp.parse_args(["--model", "m", "--seeds", "1,2", "--frames", "5", "--out", "w.gif"])
    assert actions["frames"].required and actions["frames"].help == walks.HELP["frames"]
    assert (args.easing, args.truncation, args.fps, args.scale) == (walks.DEFAULT_EASING, walks.DEFAULT_PSI,
                                                                     walks.DEFAULT_FPS, walks.DEFAULT_SCALE)
    assert tuple(actions["random_loop"].choices) == tuple(walks.RANDOM_LOOPS)
    spec = walks.WalkSpec([])
    assert (spec.easing, spec.psi, spec.method, spec.loop) == (args.easing, args.truncation, args.method, args.loop)
