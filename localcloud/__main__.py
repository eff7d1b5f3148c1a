"""``python -m localcloud``: see localcloud/README.md."""

from localcloud.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
