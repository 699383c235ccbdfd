"""Class labels (conditional GAN) and InfoGAN codes of a one-layer generator (num_ws = 1), as one `CodeLayout`.

The latent a seed gives is all Gaussian, as for any model — the codes are read off its last coordinates:

    z  = [noise (noise_dim) | u_class (1, conditional) | u_cat (1, info_cat > 0) | u_cont (info_cont)]  ~ N(0, I)
    ws = [noise (noise_dim) | onehot(class) (num_classes) | onehot(cat) (info_cat) | cont (info_cont)]   (N, 1, w_dim)

with the normal CDF Φ turning each code coordinate into a uniform variate:

    class = ⌊num_classes · Φ(u_class)⌋,   cat = ⌊info_cat · Φ(u_cat)⌋,   cont_j = 2 Φ(u_cont_j) − 1 ∈ (−1, 1)

So a random z draws the class and the category uniformly and the continuous codes from Uniform(−1, 1) (InfoGAN's
priors, Chen et al. 2016), and a seed fixes its codes like its noise: "per seed" is the default everywhere a z
is rendered. A chosen code overrides that by writing its coordinates of ws (`set_codes`): a class, a category,
or any real value of a continuous code (sliders go to ±2, beyond the prior, as in the paper's figures).
Truncation scales the noise part only: the one-hot and code coordinates are kept.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ..errors import UserError

CLASS, CAT = "class", "cat"          # code names; continuous codes are c0, c1, …


@dataclass(frozen=True)
class CodeLayout:
    noise_dim: int
    num_classes: int = 0          # > 0: a conditional generator
    info_cat: int = 0             # categories of InfoGAN's categorical code (0: none)
    info_cont: int = 0            # InfoGAN's continuous codes

    @property
    def conditional(self) -> bool:
        return self.num_classes > 0

    @property
    def has_info(self) -> bool:
        return self.info_cat > 0 or self.info_cont > 0

    @property
    def has_codes(self) -> bool:
        return self.conditional or self.has_info

    @property
    def z_dim(self) -> int:
        return self.noise_dim + int(self.conditional) + int(self.info_cat > 0) + self.info_cont

    @property
    def w_dim(self) -> int:
        return self.noise_dim + self.num_classes + self.info_cat + self.info_cont

    @property
    def q_dim(self) -> int:
        """Outputs of InfoGAN's Q head: category logits, then one mean per continuous code."""
        return self.info_cat + self.info_cont

    def names(self) -> list[str]:
        """The codes a user can set: 'class', 'cat', 'c0', 'c1', …"""
        return ([CLASS] if self.conditional else []) + ([CAT] if self.info_cat else []) + \
            [f"c{j}" for j in range(self.info_cont)]

    def describe(self) -> dict:
        """For model metadata."""
        return {"conditional": self.conditional, "num_classes": self.num_classes,
                "info": {"cat": self.info_cat, "cont": self.info_cont} if self.has_info else None}

    # ------------------------------------------------------------ z -> codes -> ws

    def codes_from_z(self, z: torch.Tensor) -> dict[str, torch.Tensor]:
        """The per-seed codes of z (N, z_dim): 'class' (N,) long, 'cat' (N,) long, 'cont' (N, info_cont)."""
        u = torch.special.ndtr(z[:, self.noise_dim:].float())          # (N, code coordinates) in (0, 1)
        out, i = {}, 0
        if self.conditional:
            out[CLASS] = (u[:, i] * self.num_classes).long().clamp_(0, self.num_classes - 1)
            i += 1
        if self.info_cat:
            out[CAT] = (u[:, i] * self.info_cat).long().clamp_(0, self.info_cat - 1)
            i += 1
        if self.info_cont:
            out["cont"] = 2 * u[:, i:i + self.info_cont] - 1
        return out

    def to_ws(self, z: torch.Tensor, c: torch.Tensor | None = None) -> torch.Tensor:
        """z (N, z_dim) -> ws (N, 1, w_dim); `c` (class ids (N,) or one-hot (N, num_classes)) overrides the class."""
        if z.ndim != 2 or z.shape[1] != self.z_dim:
            raise UserError(f"latents must have shape (N, {self.z_dim}), not {tuple(z.shape)}")
        codes = self.codes_from_z(z)
        parts = [z[:, :self.noise_dim]]
        if self.conditional:
            cls = codes[CLASS] if c is None else self.class_ids(c, z.shape[0]).to(z.device)
            parts.append(F.one_hot(cls, self.num_classes).to(z.dtype))
        elif c is not None:
            raise UserError("this generator is not conditional: it takes no class")
        if self.info_cat:
            parts.append(F.one_hot(codes[CAT], self.info_cat).to(z.dtype))
        if self.info_cont:
            parts.append(codes["cont"].to(z.dtype))
        return torch.cat(parts, 1).unsqueeze(1)                          # (N, 1, w_dim)

    def class_ids(self, c: torch.Tensor | int, n: int) -> torch.Tensor:
        """Class ids (n,) long from an int, ids (n,) or one-hot rows (n, num_classes); checked."""
        c = torch.as_tensor(c)
        if c.ndim == 2 and c.shape[1] == self.num_classes:
            c = c.argmax(1)
        if c.ndim == 0:
            c = c.expand(n)
        if c.ndim != 1 or c.shape[0] != n or c.is_floating_point() and not torch.equal(c, c.round()):
            raise UserError(f"classes must be {n} ids or one-hot rows ({n}, {self.num_classes}), "
                            f"not shape {tuple(c.shape)}")
        c = c.long()
        bad = c[(c < 0) | (c >= self.num_classes)]
        if bad.numel():
            raise UserError(f"class must be between 0 and {self.num_classes - 1}, not {int(bad[0])}")
        return c

    def truncate(self, ws: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """Truncation towards the noise's mean (0) on the noise part only; codes untouched."""
        if psi == 1.0:
            return ws
        return torch.cat([psi * ws[..., :self.noise_dim], ws[..., self.noise_dim:]], -1)

    # ------------------------------------------------------------ chosen codes

    def offsets(self) -> dict[str, int]:
        """Where each code starts in ws's last axis."""
        o, i = {}, self.noise_dim
        if self.conditional:
            o[CLASS], i = i, i + self.num_classes
        if self.info_cat:
            o[CAT], i = i, i + self.info_cat
        for j in range(self.info_cont):
            o[f"c{j}"] = i + j
        return o

    def check(self, codes: dict[str, float]) -> dict[str, float]:
        """Validated codes: known names, classes and categories whole numbers in range, finite values."""
        known, out = self.names(), {}
        for name, value in codes.items():
            if name not in known:
                have = ", ".join(known) if known else "none: it is neither conditional nor an InfoGAN"
                raise UserError(f"this model has no code {name!r} (its codes: {have})")
            v = float(value)
            if not torch.isfinite(torch.tensor(v)):
                raise UserError(f"code {name} must be a finite number, not {value}")
            if name in (CLASS, CAT):
                size = self.num_classes if name == CLASS else self.info_cat
                if v != int(v) or not 0 <= v < size:
                    raise UserError(f"{name} must be a whole number from 0 to {size - 1}, not {value}")
                v = int(v)
            out[name] = v
        return out

    def set_codes(self, ws: torch.Tensor, codes: dict[str, float]) -> torch.Tensor:
        """ws (N, num_ws, w_dim) with the chosen codes written in (a copy); unnamed codes stay per seed."""
        codes = self.check(codes)
        if not codes:
            return ws
        ws, at = ws.clone(), self.offsets()
        for name, v in codes.items():
            if name in (CLASS, CAT):
                size = self.num_classes if name == CLASS else self.info_cat
                ws[..., at[name]:at[name] + size] = 0
                ws[..., at[name] + v] = 1
            else:
                ws[..., at[name]] = v
        return ws

    def read_codes(self, ws: torch.Tensor) -> list[dict[str, float]]:
        """The codes ws (N, num_ws, w_dim) holds, one dict per row (argmax of the one-hot parts)."""
        at, rows = self.offsets(), []
        for w in ws[:, 0]:
            row: dict[str, float] = {}
            for name in self.names():
                if name in (CLASS, CAT):
                    size = self.num_classes if name == CLASS else self.info_cat
                    row[name] = int(w[at[name]:at[name] + size].argmax())
                else:
                    row[name] = float(w[at[name]])
            rows.append(row)
        return rows


def layout_of(G) -> CodeLayout | None:
    """The generator's code layout when it has classes or InfoGAN codes, else None."""
    layout = getattr(G, "code_layout", None)
    return layout if isinstance(layout, CodeLayout) and layout.has_codes else None
