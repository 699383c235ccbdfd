"""`gan-studio <command>`: everything the GUI does, headless. User errors: one line on stderr, exit 2."""
from __future__ import annotations

import argparse
import sys

from . import (  # noqa: F401
    commands,
    commands3d,
    commands_arith,
    commands_files,
    commands_memo,
    commands_paint,
    commands_project,
    commands_style,
    commands_train,
    commands_translate,
    commands_walk,
)
from .args import Parser
from .common import COMMANDS

# The order `gan-studio --help` lists the commands in (whatever order the modules above register them in);
# a command not named here follows, in registration order.
HELP_ORDER = ("train", "models", "info", "sample", "project", "paint", "evaluate", "neighbours", "memorisation",
              "train-classifier", "gui", "walk", "mix",
              "render3d", "reconstruct", "sample3d", "eval3d", "train3d", "prior3d", "train-voxel-classifier",
              "pack", "import",
              "discover", "rca")


def build_parser() -> argparse.ArgumentParser:
    ap = Parser(prog="gan-studio", description="Explore what GANs have learned.")   # one-line errors, finite floats
    sub = ap.add_subparsers(dest="command")
    order = {name: i for i, name in enumerate(HELP_ORDER)}
    for name in sorted(COMMANDS, key=lambda n: order.get(n, len(order))):
        add_args, _run, help_ = COMMANDS[name]
        sp = sub.add_parser(name, help=help_, description=help_)
        add_args(sp)
    return ap


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    ap = build_parser()
    args = ap.parse_args(argv)
    name = args.command or "gui"
    if args.command is None:
        args = ap.parse_args(["gui"] + argv)
    args.argv = [str(a) for a in argv]            # the command as given, for the metadata a command writes
    from ..engine.errors import UserError
    try:
        return int(COMMANDS[name][1](args) or 0)
    except UserError as exc:
        print(f"gan-studio {name}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"gan-studio {name}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
