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


def on_page_markdown(markdown: str, page, config, files) -> str:
    """Read lists as GitHub does: a list may follow a paragraph line with no blank line.

    Python-Markdown needs the blank line; the pages, written for GitHub as well (model.md,
    references.md), often leave it out. Fenced code is left as it is.

    Parameters
    ----------
    markdown : str
        The page's Markdown.
    page, config, files
        MkDocs' page, configuration and files (unused).

    Returns
    -------
    str
        The Markdown with a blank line before each list that follows a paragraph line.
    """
    out: list[str] = []
    fence = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            fence = not fence
        elif (not fence and line.startswith(("- ", "* ")) and out and out[-1].strip()
              and not out[-1].startswith(("- ", "* ", " ", "|"))):
            out.append("")
        out.append(line)
    return "\n".join(out) + "\n"
