"""Offline human-text corpora built from Debian packages (issue 7).

Each submodule reads one on-disk format that Debian ships text in and yields
plain-text paragraphs; `build` ties them together. Everything here is pure
standard-library Python so the corpora build with /usr/bin/python3 alone.
"""
