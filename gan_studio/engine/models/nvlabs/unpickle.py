"""Reading NVlabs network pickles (stylegan2-ada-pytorch, stylegan3) without running anything from them.

A network pickle is a dict (`G`, `D`, `G_ema`, `training_set_kwargs`, `augment_pipe`) whose networks were
saved through `torch_utils.persistence`: each one is `_reconstruct_persistent_obj(meta)`, `meta` holding the
module's source code, the class name and the object's `__dict__` (`state`). Our unpickler answers that
global with `PersistentRecord` (class name + state; `module_src` is dropped unread), rebuilds tensors with
torch's own rebuild functions (storages come from the file's bytes via `torch.load(weights_only=True)`),
accepts a short list of plain-data globals, and refuses everything else by name.
"""
from __future__ import annotations

import collections
import io
import pickle
from dataclasses import dataclass, field
from typing import Any

import torch

from ...errors import ModelFileError
from ...torchload import quiet_torch_load, refusal_reason


@dataclass
class PersistentRecord:
    """What `_reconstruct_persistent_obj(meta)` would have built, as data: the class name and its `__dict__`."""
    class_name: str
    state: dict = field(default_factory=dict)

    @property
    def params(self) -> dict:
        return self.state.get("_parameters") or {}

    @property
    def buffers(self) -> dict:
        return self.state.get("_buffers") or {}

    @property
    def modules(self) -> dict:
        return self.state.get("_modules") or {}

    def get(self, name: str, default: Any = None) -> Any:
        return self.state.get(name, default)

    def tensor(self, name: str) -> torch.Tensor | None:
        """A parameter or buffer by name (None when absent)."""
        t = self.params.get(name)
        return self.buffers.get(name) if t is None else t

    def child(self, name: str) -> PersistentRecord | None:
        return self.modules.get(name)


def _reconstruct(meta: Any) -> PersistentRecord:
    if not isinstance(meta, dict) or meta.get("type") != "class" or not isinstance(meta.get("class_name"), str):
        raise pickle.UnpicklingError("a persistent object without a class name")
    state = meta.get("state")
    return PersistentRecord(meta["class_name"], state if isinstance(state, dict) else {})


def _load_from_bytes(b: bytes):
    try:
        return quiet_torch_load(io.BytesIO(b))
    except pickle.UnpicklingError as exc:          # in our words: never torch's advice to disable the check
        raise pickle.UnpicklingError(f"refused: a storage inside it: {refusal_reason(exc)}") from None


class EasyDict(dict):
    """dnnlib.EasyDict as plain data: a dict (attribute access is all the original adds)."""


def _np_dtype(spec, align=False, copy=True):
    import numpy as np
    dt = np.dtype(spec, align, copy)
    if dt.hasobject:
        raise pickle.UnpicklingError("refused: numpy.dtype of Python objects")
    return dt


def _np_reconstruct(cls, shape, dtype_code):
    """numpy's array unpickling (an empty array that BUILD fills from raw bytes); plain ndarrays only."""
    import numpy as np
    if cls is not np.ndarray:
        raise pickle.UnpicklingError(f"refused: a numpy array of class {getattr(cls, '__name__', cls)!r}")
    return np.ndarray.__new__(np.ndarray, shape, dtype_code)


def _np_scalar(dtype, data=None):
    import numpy as np
    if not isinstance(dtype, np.dtype) or dtype.hasobject or not isinstance(data, bytes | None):
        raise pickle.UnpicklingError("refused: a numpy scalar that is not plain data")
    return np.frombuffer(data, dtype=dtype, count=1)[0] if data is not None else dtype.type()


def _numpy_globals() -> dict:
    import numpy as np
    out = {("numpy", "dtype"): _np_dtype, ("numpy", "ndarray"): np.ndarray}
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        out[(mod, "scalar")] = _np_scalar
        out[(mod, "_reconstruct")] = _np_reconstruct
    for name in ("Float64DType", "Float32DType", "Int64DType", "Int32DType", "BoolDType"):
        if hasattr(np.dtypes, name):
            out[("numpy.dtypes", name)] = getattr(np.dtypes, name)
    return out


ALLOWED = {
    ("torch_utils.persistence", "_reconstruct_persistent_obj"): _reconstruct,
    ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
    ("torch.storage", "_load_from_bytes"): _load_from_bytes,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("dnnlib.util", "EasyDict"): EasyDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("builtins", "slice"): slice,
    ("builtins", "complex"): complex,
    ("torch", "Size"): torch.Size,
}
for _dt in ("float32", "float16", "float64", "bfloat16", "int64", "int32", "int16", "int8", "uint8", "bool"):
    ALLOWED[("torch", _dt)] = getattr(torch, _dt)


class SafeUnpickler(pickle.Unpickler):
    """Builds nothing but tensors, persistent-object records and plain data; refuses every other global."""

    _numpy: dict | None = None

    def find_class(self, module: str, name: str):
        fn = ALLOWED.get((module, name))
        if fn is not None:
            return fn
        if module.startswith("numpy"):
            if SafeUnpickler._numpy is None:
                SafeUnpickler._numpy = _numpy_globals()
            fn = SafeUnpickler._numpy.get((module, name))
            if fn is not None:
                return fn
        raise pickle.UnpicklingError(f"refused: {module}.{name}")

    def persistent_load(self, pid):
        raise pickle.UnpicklingError(f"refused: a persistent id {str(pid)[:40]!r}")


def load_network_pickle(path, name: str | None = None) -> dict:
    """The file's top-level dict, networks as `PersistentRecord`s. One ModelFileError line when it cannot be
    read safely: a refused global (named), a truncated or garbled pickle, or something that is not a dict."""
    name = name or str(path)
    try:
        with open(path, "rb") as fh:
            obj = SafeUnpickler(fh).load()
    except pickle.UnpicklingError as exc:
        msg = str(exc).splitlines()[0][:200] if str(exc) else "unreadable"
        raise ModelFileError(f"{name}: {msg} — this network pickle asks for something GAN Studio does not build "
                             f"(nothing in it was run)" if msg.startswith("refused") else
                             f"{name}: not a readable network pickle ({msg})") from None
    except (EOFError, ValueError, TypeError, KeyError, IndexError, AttributeError, RuntimeError,
            OverflowError, MemoryError) as exc:
        msg = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        raise ModelFileError(f"{name}: not a readable network pickle (truncated or damaged: {msg})") from None
    if not isinstance(obj, dict):
        raise ModelFileError(f"{name}: a pickle of {type(obj).__name__}, not an NVlabs network pickle "
                             f"(a dict with G_ema)")
    return obj
