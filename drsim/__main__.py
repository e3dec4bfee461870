"""``python -m drsim``: the ``drsim`` command, for environments where its script is not on PATH."""

from drsim.cli import main

if __name__ == "__main__":
    main(prog_name="drsim")
