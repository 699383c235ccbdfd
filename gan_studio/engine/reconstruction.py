"""Using a trained voxel model (kind "voxel-model"): image -> voxels, seed -> voxels, latent interpolation.

    model = VoxelModel.open("modelnet10-iwgan")           # a catalogue name or a path
    probs = model.reconstruct(load_view(path, model.image_size))   # (32, 32, 32) float32 in [0, 1]
    probs = model.reconstruct(view, refine=25)            # + 25 steps of latent refinement (latent/voxel_refine.py)
    probs = model.sample(seed=3)
    frames = model.interpolate(model.encode(view_a), model.encode(view_b), steps=8)

Every method returns numpy occupancy probabilities indexed [x, y, z] (z up) as the training data;
`model.threshold` is the stored occupancy threshold of reconstructions (chosen on training views by `eval3d
--write`); random shapes have their own, `model.sample_threshold`, and a truncation `model.truncation` (ψ: a seed's
z is ψ times its N(0, 1) draw), both chosen by `eval3d --choose-sampling --write` on the training objects (the 3D
FID of the seeds' shapes against them); files without them use the reconstruction threshold and ψ 1.

A file with a fitted latent prior (`gan-studio prior3d`, models/voxel_prior.py) draws its random shapes from it:
a seed picks a class component (or `component` picks one: `model.sample(3, component="chair")`) and is decoded by
the reconstruction generator, the one encoded images use; files without one use the GAN's z = ψ · draw, and
files with one keep it a `source` away: `model.sample(3, source="gan")` (`sample3d --sampler gan`).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .bundle import Bundle
from .catalog import open_model
from .errors import UserError
from .latent.voxel_refine import RefineSettings, refine_latents
from .latent.walks import interpolate
from .models.voxel_prior import SeedSampler, plain_sampler, prior_sampler

MAX_REFINE_STEPS = 1000
SOURCES = ("prior", "gan")       # where seeds' shapes come from: a fitted latent prior, the GAN's own generator


@dataclass
class VoxelModel:
    bundle: Bundle
    device: torch.device = torch.device("cpu")

    @classmethod
    def open(cls, name_or_path: str, device: str | torch.device = "cpu") -> VoxelModel:
        return cls.from_bundle(open_model(str(name_or_path)), device)

    @classmethod
    def from_bundle(cls, bundle: Bundle, device: str | torch.device = "cpu") -> VoxelModel:
        if bundle.kind != "voxel-model":
            raise UserError(f"{bundle.name} is a {bundle.kind}, not a 3D voxel model")
        missing = [r for r in ("generator", "encoder") if r not in bundle.networks]
        if missing:
            raise UserError(f"{bundle.name}: the file holds no {' or '.join(missing)} network")
        model = cls(bundle, torch.device(device))
        for net in bundle.networks.values():
            net.to(model.device).eval()
        return model

    @property
    def generator(self):
        return self.bundle.networks["generator"]

    @property
    def reconstruction_generator(self):
        """The generator with the batch-norm statistics of encoded views ("generator_recon", written by the
        trainer since it keeps two sets); files without it use the one generator for both."""
        return self.bundle.networks.get("generator_recon", self.generator)

    @property
    def encoder(self):
        return self.bundle.networks["encoder"]

    @property
    def z_dim(self) -> int:
        return self.generator.z_dim

    @property
    def image_size(self) -> int:
        return self.encoder.cfg.image_size

    @property
    def threshold(self) -> float:
        return float(self.bundle.meta.get("threshold", 0.5))

    @property
    def sample_threshold(self) -> float:
        """The threshold of random shapes (seeds): the file's `sample_threshold`, else `threshold`."""
        return float(self.bundle.meta.get("sample_threshold", self.threshold))

    @property
    def truncation(self) -> float:
        """ψ: a seed's latent is ψ times its N(0, 1) draw (1: none)."""
        return float(self.bundle.meta.get("truncation", 1.0))

    def threshold_for(self, source: str) -> float:
        """The default threshold of a shape from `source`: "seed" (random shapes), else a reconstruction's."""
        return self.sample_threshold if source == "seed" else self.threshold

    @property
    def prior(self):
        """The fitted latent prior (models/voxel_prior.py), or None."""
        return self.bundle.networks.get("latent_prior")

    @property
    def components(self) -> list[str]:
        """The prior's components (class names) in order; [] without a prior."""
        if self.prior is None:
            return []
        names = list((self.bundle.meta.get("prior") or {}).get("components") or [])
        n = self.prior.n_components
        return names if len(names) == n else [f"component {i}" for i in range(n)]

    def component_index(self, component: int | str | None) -> int | None:
        """A component by index or name (None: each seed draws its own); UserError for one the model lacks."""
        if component is None:
            return None
        names = self.components
        if not names:
            raise UserError(f"{self.bundle.name} has no fitted latent prior: its seeds have no class to choose")
        if isinstance(component, str) and not component.isdigit():
            key = component.strip().lower().replace(" ", "_")
            if key not in names:
                raise UserError(f"{component!r} is not one of {self.bundle.name}'s classes: {', '.join(names)}")
            return names.index(key)
        i = int(component)
        if not 0 <= i < len(names):
            raise UserError(f"component {i} does not exist (0-{len(names) - 1})")
        return i

    @property
    def sources(self) -> list[str]:
        """The ways this file can turn seeds into shapes, its default first: ["prior", "gan"] or ["gan"]."""
        return ["prior", "gan"] if self.prior is not None else ["gan"]

    def source(self, source: str = "auto") -> str:
        """A sampler's name as asked ("auto": the file's default); UserError for one the file lacks."""
        if source == "auto":
            return self.sources[0]
        if source not in SOURCES:
            raise UserError(f"the sampler must be one of {', '.join(('auto',) + SOURCES)}, not {source!r}")
        if source not in self.sources:
            raise UserError(f"{self.bundle.name} has no fitted latent prior (`gan-studio prior3d` fits one): "
                            "its seeds come from the GAN's generator")
        return source

    def sampler(self, component: int | str | None = None, source: str = "auto") -> SeedSampler:
        """How seeds become shapes (models/voxel_prior.py): `source` "prior" (the default where the file has
        one), or "gan": the GAN's own sampling generator, z = ψ · the seed's draw (no classes)."""
        if self.source(source) == "gan":
            if component is not None and self.prior is not None:
                raise UserError("the GAN's generator has no classes: a class needs the fitted prior's sampler")
            self.component_index(component)                # a clear error when a class is asked of no prior
            return plain_sampler(self.generator)
        return prior_sampler(self.prior, self.reconstruction_generator, self.component_index(component))

    def default_truncation(self, source: str = "auto") -> float:
        """The ψ a source's seeds use by default: the file's (chosen for its default sampler), 1 for the GAN's
        generator of a file whose chosen ψ belongs to its prior."""
        return self.truncation if self.source(source) == self.sources[0] else 1.0

    def _check_view(self, view: torch.Tensor) -> None:
        if view.ndim != 4 or view.shape[1:] != (1, self.image_size, self.image_size):
            raise UserError(f"expected views (N, 1, {self.image_size}, {self.image_size}), got {tuple(view.shape)}")

    @torch.no_grad()
    def encode(self, view: torch.Tensor) -> torch.Tensor:
        """View (1, 1, S, S) or (N, 1, S, S) in [0, 1] -> posterior means (N, z_dim)."""
        self._check_view(view)
        mean, _ = self.encoder(view.float().to(self.device))
        return mean.cpu()

    @torch.no_grad()
    def decode(self, z: torch.Tensor, encoded: bool = False) -> np.ndarray:
        """Latents (N, z_dim) -> probabilities (N, 32, 32, 32) float32; `encoded`: the latents are the
        encoder's (decoded with the reconstruction statistics), not draws from the prior (with a fitted prior
        both are decoded that way)."""
        G = self.reconstruction_generator if encoded or self.prior is not None else self.generator
        return G(z.float().to(self.device))[:, 0].cpu().numpy()

    def refine(self, view: torch.Tensor, steps: int, settings: RefineSettings | None = None) -> torch.Tensor:
        """Views (N, 1, S, S) in [0, 1] -> latents (N, z_dim) refined for `steps` steps from the encoder's
        posterior means so that the shapes, rendered as the views were, match them (latent/voxel_refine.py)."""
        self._check_view(view)
        s = settings or refine_settings(steps)
        with torch.no_grad():
            mean, logvar = self.encoder(view.float().to(self.device))
        z, _ = refine_latents(self.reconstruction_generator, mean, logvar, view, s, self.threshold)
        return z.cpu()

    def reconstruct(self, view: torch.Tensor, refine: int = 0) -> np.ndarray:
        """One view (1, 1, S, S) -> probabilities (32, 32, 32); `refine` > 0: that many steps of latent
        refinement after encoding (see `refine`)."""
        z = self.refine(view, refine) if refine else self.encode(view)
        return self.decode(z, encoded=True)[0]

    def latent(self, seed: int, truncation: float | None = None, component: int | str | None = None,
               source: str = "auto") -> torch.Tensor:
        """The z of a seed (1, z_dim) at ψ `truncation` (default the source's): ψ times the seed's draw (the
        same draws as the image models), or with a fitted prior that draw mapped through the seed's component (or
        `component`'s); `source` "gan" asks the GAN's way of a file with a prior (decode such a z with
        `sampler(source="gan").decoder`, as `sample` does: `decode` assumes the file's own way)."""
        psi = self.default_truncation(source) if truncation is None else float(truncation)
        return self.sampler(component, source).latents([int(seed)], psi)

    @torch.no_grad()
    def sample(self, seed: int, truncation: float | None = None, component: int | str | None = None,
               source: str = "auto") -> np.ndarray:
        """A seed's shape (32, 32, 32), decoded by its source's network."""
        decoder = self.sampler(component, source).decoder
        return decoder(self.latent(seed, truncation, component, source).to(self.device))[0, 0].cpu().numpy()

    def seed_component(self, seed: int) -> str | None:
        """The class component a seed draws from (None without a prior)."""
        if self.prior is None:
            return None
        return self.components[int(self.prior.component_draws([int(seed)])[0])]

    def interpolate(self, z0: torch.Tensor, z1: torch.Tensor, steps: int = 8, method: str = "slerp",
                    encoded: bool = False) -> np.ndarray:
        """Shapes along the path from z0 to z1 (each (1, z_dim) or (z_dim,)): (steps, 32, 32, 32);
        `encoded`: both ends are encoded images (see decode)."""
        keys = torch.cat([z0.reshape(1, -1), z1.reshape(1, -1)]).float()
        return self.decode(interpolate(keys, steps, method), encoded=encoded)


def refine_settings(steps: int) -> RefineSettings:
    """The refinement settings for `steps` steps, or one UserError for a bad count."""
    if isinstance(steps, bool) or not isinstance(steps, int) or not 0 <= steps <= MAX_REFINE_STEPS:
        raise UserError(f"refinement steps must be a whole number from 0 to {MAX_REFINE_STEPS}, not {steps!r}")
    return RefineSettings(steps=steps)
