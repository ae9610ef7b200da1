"""MkDocs hook: pages and pictures that live outside docs/, served from where they are.

The benchmark report (`benchmarks/results/full.md`) and its figure are written by
`benchmarks/run.py` into `benchmarks/results/`; the site shows them at the same path, so
there is one copy of each.
"""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parent.parent
OUTSIDE = ("benchmarks/results/full.md", "benchmarks/results/full_scaling.png")


def on_files(files: Files, config) -> Files:
    """Add the files named in OUTSIDE to the site, at their paths in the repository.

    Parameters
    ----------
    files : mkdocs.structure.files.Files
        The files found in docs/.
    config : mkdocs.config.defaults.MkDocsConfig
        The site's configuration.

    Returns
    -------
    mkdocs.structure.files.Files
        The same collection with the outside files appended.
    """
    for path in OUTSIDE:
        files.append(File(path, src_dir=str(ROOT), dest_dir=config["site_dir"],
                          use_directory_urls=config["use_directory_urls"]))
    return files
