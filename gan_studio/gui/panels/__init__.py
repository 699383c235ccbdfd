"""One panel per file. A panel is a `Panel` subclass; the main window shows each as a tab."""
