"""`torch.load(weights_only=True)` as GAN Studio uses it: data, never code, and our own words when it refuses.

torch's refusal ends with advice to re-run with `weights_only=False` (which would run the file's code); we never
pass that on. `refusal_reason` says what was refused and why, `quiet_torch_load` drops torch's warning about
pickle protocol 5 (two stray stderr lines before our one), `load_weights` is both with one ModelFileError line;
`check_plain_tensors` refuses what a loaded state_dict must not hold (a stride-0 view claiming a billion numbers).
"""
from __future__ import annotations

import pickle
import pickletools
import re
import warnings
from typing import Any

from .errors import ModelFileError

_OPCODES = {ord(op.code): op for op in pickletools.opcodes if len(op.code) == 1}


def quiet_torch_load(f) -> Any:
    """torch.load(f, map_location="cpu", weights_only=True), without torch's pickle-protocol warning."""
    import torch
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*pickle protocol", category=UserWarning)
        return torch.load(f, map_location="cpu", weights_only=True)


def refusal_reason(exc: BaseException) -> str:
    """Why the weights-only loader refused a file, in our words (never torch's advice to disable it)."""
    text = str(exc)
    m = re.search(r"GLOBAL ([\w.]+)", text) or re.search(r"[Uu]nsupported global:?\s*([\w.]+)", text)
    if m:
        return (f"it asks to build the Python object {m.group(1)}, which plain weights never need and which "
                f"could run code; nothing in it was run")
    m = re.search(r"[Uu]nsupported operand (\d+)", text)
    if m:
        op = _OPCODES.get(int(m.group(1)))
        what = f"the {op.name} instruction of pickle protocol {op.proto}+" if op else f"pickle opcode {m.group(1)}"
        return (f"it uses {what}, which the safe weights loader does not read; save the weights again with "
                f"torch.save's default protocol, or as .safetensors (nothing in it was run)")
    return ("it holds something other than tensors, numbers, strings and plain containers, which a file of "
            "weights never needs; nothing in it was run")


def _first_line(exc: BaseException) -> str:
    s = str(exc).strip().splitlines()
    return s[0][:200] if s else type(exc).__name__


def load_weights(f, name: str) -> Any:
    """The object a weights-only torch file holds; one ModelFileError line (named `name`) when it is refused
    or unreadable."""
    try:
        return quiet_torch_load(f)
    except Exception as exc:
        if isinstance(exc, pickle.UnpicklingError) or "weights only load failed" in str(exc).lower():
            raise ModelFileError(f"{name}: refused to load: {refusal_reason(exc)}") from None
        raise ModelFileError(f"{name}: not a readable PyTorch file ({_first_line(exc)})") from None


VIEW_SLACK = 1 << 16      # a view may show this many numbers more than it stores (a small broadcast buffer)


def check_plain_tensors(state: dict, name: str, cap: int) -> None:
    """One ModelFileError line unless every tensor of `state` (name -> tensor, as torch.load gave it) is plain
    dense data: strided, not quantized, and showing no more numbers than its storage holds (a stride-0 or
    overlapping view of a tiny storage can claim a billion elements in a 1 KB file), `cap` numbers at most in
    all. Only sizes are read: nothing is allocated."""
    import torch
    total = 0
    for name_, t in state.items():
        key = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in str(name_))   # one line, whatever the name
        if t.layout != torch.strided or t.is_quantized or t.is_meta or t.is_complex():
            raise ModelFileError(f"{name}: tensor {key} is {str(t.layout).removeprefix('torch.')} "
                                 f"{str(t.dtype).removeprefix('torch.')} data, not plain weights")
        n = t.numel()
        stored = t.untyped_storage().nbytes() // max(1, t.element_size())
        if n > stored + VIEW_SLACK:
            raise ModelFileError(f"{name}: tensor {key} claims {n:,} numbers {list(t.shape)} but stores {stored:,} "
                                 f"(a stride-0 or overlapping view): not plain weights; nothing was built")
        total += n
        if total > cap:
            raise ModelFileError(f"{name}: the tensors hold more than {cap:,} numbers (at {key} {list(t.shape)}); "
                                 f"the cap is {cap:,}")
