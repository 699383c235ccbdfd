"""Qt-free jobs that the GUI runs in workers and the CLI runs inline."""
