#!/usr/bin/python3
"""Builds Telltale's human-text corpora from Debian packages (no install).

Usage: /usr/bin/python3 datasets/build_corpora.py [--out DIR] [--cache DIR] [--jobs N] [--force]

Outputs english.txt, chinese.txt, german/russian/spanish/italian.txt,
mixed.txt, human_windows.jsonl, wordnet_synonyms.json, sources/*.txt and
manifest.json. Re-running with unchanged package versions and code is a
no-op. See docs/datasets.md.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from ttcorpus import build  # noqa: E402


def main() -> int:
    cache = os.environ.get("TELLTALE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "telltale")
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(cache, "corpora"), help="output directory")
    ap.add_argument("--cache", default=cache, help="cache for .debs and unpacked trees")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1), help="HTML parser processes")
    ap.add_argument("--force", action="store_true", help="rebuild even if the manifest is current")
    args = ap.parse_args()
    try:
        build.build(args.out, args.cache, max(1, args.jobs), args.force)
    except (build.BuildError, OSError, ValueError) as e:
        print(f"build_corpora: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
