"""Voxel grid -> surface mesh, and files: STL / OBJ / PLY meshes and `.npy` grids. Pure functions, no rendering.

    cubes_mesh(probs, threshold)   the occupied cells (> threshold) as cubes, outer surface only
    smooth_mesh(probs, threshold)  flying-edges isosurface of the probabilities at `threshold`
    save_mesh / save_voxels / export_voxels

Coordinates are voxel units: cell [i, j, k] spans [i, i+1] x [j, j+1] x [k, k+1] (z up, as the data).
Both meshes carry an "occupancy" array (cell data for cubes, point data for smooth) for colouring.
pyvista is imported lazily (it is heavy) and only builds meshes here: no render window is opened.
"""
from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

import numpy as np

from .errors import UserError, not_a_file
from .files import atomic_write, check_output_path, disk_full, save_npy

MESH_SUFFIXES = (".stl", ".obj", ".ply")
VOXEL_SUFFIXES = (".npy",)
STYLES = ("cubes", "smooth")


def as_grid(voxels) -> np.ndarray:
    """A (X, Y, Z) float32 array of probabilities/occupancy from numpy, torch, bool or (1, X, Y, Z)."""
    try:
        import torch
        if torch.is_tensor(voxels):
            voxels = voxels.detach().float().cpu().numpy()
    except ImportError:  # pragma: no cover
        pass
    arr = np.asarray(voxels)
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 3 or min(arr.shape) < 1:
        raise UserError(f"expected a 3D voxel grid (X, Y, Z), got shape {arr.shape}")
    if not (np.issubdtype(arr.dtype, np.number) or arr.dtype == bool):
        raise UserError(f"a voxel grid must be numeric or boolean, not {arr.dtype}")
    arr = arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise UserError("the voxel grid contains NaN or infinity")
    return arr


def cubes_mesh(voxels, threshold: float = 0.5):
    """Cells with occupancy > threshold as a surface of cube faces (pv.PolyData, triangles)."""
    import pyvista as pv
    grid = as_grid(voxels)                                                # (X, Y, Z)
    img = pv.ImageData(dimensions=np.array(grid.shape) + 1)               # points at cell corners
    img.cell_data["occupancy"] = grid.ravel(order="F")                    # VTK: x fastest
    occupied = grid > threshold
    if not occupied.any():
        return pv.PolyData()
    cells = img.extract_cells(np.flatnonzero(occupied.ravel(order="F")))
    surf = cells.extract_surface(pass_pointid=False, pass_cellid=False, algorithm="dataset_surface")
    surf = surf.triangulate()
    for name in ("vtkOriginalPointIds", "vtkOriginalCellIds"):      # bookkeeping of extract_cells
        surf.point_data.pop(name, None)
        surf.cell_data.pop(name, None)
    return surf


def smooth_mesh(voxels, threshold: float = 0.5):
    """Flying-edges isosurface at `threshold` (pv.PolyData); the grid is padded so the surface closes."""
    import pyvista as pv
    grid = np.pad(as_grid(voxels), 1)                                     # (X+2, Y+2, Z+2), zero border
    img = pv.ImageData(dimensions=grid.shape, origin=(-0.5, -0.5, -0.5))  # points at cell centres
    img.point_data["occupancy"] = grid.ravel(order="F")
    if not (grid > threshold).any():
        return pv.PolyData()
    surf = img.contour([threshold], scalars="occupancy", method="flying_edges")
    surf.point_data["occupancy"] = np.full(surf.n_points, threshold, np.float32)
    return surf


def build_mesh(voxels, threshold: float = 0.5, style: str = "cubes"):
    if style not in STYLES:
        raise UserError(f"mesh style must be one of {', '.join(STYLES)}, not {style!r}")
    return cubes_mesh(voxels, threshold) if style == "cubes" else smooth_mesh(voxels, threshold)


@contextlib.contextmanager
def quiet_vtk():
    """VTK's error and warning output off (its log lines on stderr, pyvista's copies in `logging`): a failed
    write is our one line, not twenty of VTK's."""
    from vtkmodules.vtkCommonCore import vtkObject
    before = vtkObject.GetGlobalWarningDisplay()
    vtkObject.GlobalWarningDisplayOff()
    try:
        yield
    finally:
        vtkObject.SetGlobalWarningDisplay(before)


def _write_mesh(mesh, out: str, suffix: str) -> None:
    """VTK writes `out`. Its PLY and OBJ writers report no full disk, and its STL writer deletes the file and says
    only "failed": a full disk after the write, or a failure with less room left than the mesh needs, is ENOSPC.
    (The file is not read back to check it: VTK's PLY reader crashes on a cut-short file.)"""
    folder = os.path.dirname(out) or "."
    try:
        with quiet_vtk():
            mesh.save(out, binary=suffix != ".obj") if suffix != ".obj" else mesh.save(out)
    except Exception:
        st = os.statvfs(folder)
        if st.f_bavail * st.f_frsize < 50 * mesh.n_cells:        # binary STL: 50 bytes a triangle
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)) from None
        raise
    if disk_full(folder) or not os.path.getsize(out):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def save_mesh(mesh, path: str | Path) -> Path:
    """Write a mesh as .stl, .obj or .ply, atomically. An empty mesh is a UserError (nothing to write), a failed
    write an OutputError (one line: VTK's own messages are silenced)."""
    path = check_output_path(path)
    suffix = path.suffix.lower()
    if suffix not in MESH_SUFFIXES:
        raise UserError(f"mesh files must end in {', '.join(MESH_SUFFIXES)}, not {path.name!r}")
    if mesh.n_points == 0:
        raise UserError("the shape is empty at this threshold: nothing to export (lower the threshold)")

    def write(tmp: str) -> None:
        out = tmp + suffix                       # pyvista picks the writer by suffix
        try:
            _write_mesh(mesh, out, suffix)
            Path(out).replace(tmp)
        finally:
            Path(out).unlink(missing_ok=True)
    return atomic_write(path, write)


def save_voxels(voxels, path: str | Path, threshold: float | None = 0.5) -> Path:
    """Write the grid as .npy: bool (> threshold), or float32 probabilities when threshold is None."""
    grid = as_grid(voxels)
    return save_npy(path, grid if threshold is None else grid > threshold)


def export_voxels(voxels, path: str | Path, threshold: float = 0.5, probabilities: bool = False,
                  style: str = "cubes") -> Path:
    """Export by suffix: .npy (bool grid, or float probabilities) or .stl/.obj/.ply (mesh of `style`)."""
    suffix = Path(path).suffix.lower()
    if suffix in VOXEL_SUFFIXES + MESH_SUFFIXES:
        check_output_path(path)                  # before the mesh is built
    if suffix in VOXEL_SUFFIXES:
        return save_voxels(voxels, path, None if probabilities else threshold)
    if suffix in MESH_SUFFIXES:
        return save_mesh(build_mesh(voxels, threshold, style), path)
    raise UserError(f"--out must end in .npy, .stl, .obj or .ply, not {Path(path).name!r}")


def load_voxel_file(path: str | Path) -> np.ndarray:
    """A (32, 32, 32)-like grid from .npy (bool or numeric); UserError on anything else."""
    path = Path(path)
    if not path.is_file():
        raise UserError(not_a_file(path))
    with open(path, "rb") as fh:
        if fh.read(6) != b"\x93NUMPY":
            raise UserError(f"{path.name}: not a .npy array file")
    try:
        arr = np.load(path, allow_pickle=False)
    except Exception as exc:
        raise UserError(f"cannot read voxels {path.name}: {str(exc).splitlines()[0]}") from None
    if not isinstance(arr, np.ndarray):
        raise UserError(f"{path.name}: expected one array, not an archive")
    return as_grid(arr)
