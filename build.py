#!/usr/bin/env python3
"""Build every deck in cards/ into dist/ (same as `flashdeck build cards --out dist`)."""

import sys

from flashdeck.cli import main

if __name__ == "__main__":
    sys.exit(main(["build", "cards", "--out", "dist", *sys.argv[1:]]))
