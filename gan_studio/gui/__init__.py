"""The Qt GUI: the only package that imports PySide6 / pyqtgraph / superqt."""
