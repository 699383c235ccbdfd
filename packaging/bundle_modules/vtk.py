"""`vtk` inside the GAN Studio bundle (packaging/gan-studio.spec puts this file there in place of VTK's own).

VTK's `vtk` module is vtkmodules.all: it imports every VTK module, about 250 MB of libraries the app never calls.
The bundle holds the VTK modules below (what pyvista and pyvistaqt use for the 3D tab and the mesh exports,
measured by running them); this stand-in offers their names, so `import vtk; vtk.vtkVersion` (the About box)
works as it does in the venv. The spec reads VTK_MODULES from here: keep it a plain list of strings.
"""
import importlib

from vtkmodules.vtkCommonCore import *  # noqa: F403

VTK_MODULES = [
    "vtkmodules.vtkChartsCore", "vtkmodules.vtkCommonColor", "vtkmodules.vtkCommonComputationalGeometry",
    "vtkmodules.vtkCommonCore", "vtkmodules.vtkCommonDataModel", "vtkmodules.vtkCommonExecutionModel",
    "vtkmodules.vtkCommonMath", "vtkmodules.vtkCommonMisc", "vtkmodules.vtkCommonSystem",
    "vtkmodules.vtkCommonTransforms", "vtkmodules.vtkFiltersCellGrid", "vtkmodules.vtkFiltersCore",
    "vtkmodules.vtkFiltersExtraction", "vtkmodules.vtkFiltersGeneral", "vtkmodules.vtkFiltersGeometry",
    "vtkmodules.vtkFiltersHybrid", "vtkmodules.vtkFiltersModeling", "vtkmodules.vtkFiltersPython",
    "vtkmodules.vtkFiltersSources", "vtkmodules.vtkFiltersTexture", "vtkmodules.vtkIOCellGrid",
    "vtkmodules.vtkIOCore", "vtkmodules.vtkIOGeometry", "vtkmodules.vtkIOImage", "vtkmodules.vtkIOLegacy",
    "vtkmodules.vtkIOPLY", "vtkmodules.vtkIOXML", "vtkmodules.vtkIOXMLParser", "vtkmodules.vtkImagingCore",
    "vtkmodules.vtkImagingMath", "vtkmodules.vtkImagingSources", "vtkmodules.vtkInteractionStyle",
    "vtkmodules.vtkInteractionWidgets", "vtkmodules.vtkParallelCore", "vtkmodules.vtkPythonContext2D",
    "vtkmodules.vtkRenderingAnnotation", "vtkmodules.vtkRenderingContext2D",
    "vtkmodules.vtkRenderingContextOpenGL2", "vtkmodules.vtkRenderingCore", "vtkmodules.vtkRenderingFreeType",
    "vtkmodules.vtkRenderingHyperTreeGrid", "vtkmodules.vtkRenderingLabel", "vtkmodules.vtkRenderingLOD",
    "vtkmodules.vtkRenderingMatplotlib", "vtkmodules.vtkRenderingOpenGL2", "vtkmodules.vtkRenderingUI",
    "vtkmodules.vtkRenderingVolume", "vtkmodules.vtkRenderingVolumeOpenGL2", "vtkmodules.vtkViewsContext2D",
    "vtkmodules.vtkViewsCore",
]


def __getattr__(name: str):
    for module in VTK_MODULES:
        found = getattr(importlib.import_module(module), name, None)
        if found is not None:
            globals()[name] = found
            return found
    raise AttributeError(f"module 'vtk' (GAN Studio's bundle: {len(VTK_MODULES)} VTK modules) has no {name!r}")
