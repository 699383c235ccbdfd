"""The bundle's entry point (packaging/gan-studio.spec): `gan-studio` exactly as the venv's console script runs it.

gan_studio/cli/main.py itself cannot be the script: run as __main__ its relative imports have no package."""
import multiprocessing
import sys

if __name__ == "__main__":
    multiprocessing.freeze_support()        # a no-op unless a child process of the bundle is starting
    from gan_studio.cli.main import main
    sys.exit(main())
