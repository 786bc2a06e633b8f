#!/usr/bin/env python3
"""`python cli.py ...` is the `textgan` command; the commands live in textgan/cli.py."""
from textgan.cli import main

if __name__ == "__main__":
    main()
