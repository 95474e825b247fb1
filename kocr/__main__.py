"""``python -m kocr`` (and ``torchrun -m kocr train ...``) runs the CLI."""

from kocr.cli import main

if __name__ == "__main__":
    main()
