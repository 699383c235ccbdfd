"""docs/RESULTS.md holds one top-level section ("# Title") per benchmark; each bench replaces only its own."""
from __future__ import annotations

from pathlib import Path


def _sections(text: str) -> list[tuple[str, str]]:
    """(title line, section text) for every top-level '# ' section (outside code blocks), in order."""
    out, fenced = [], False
    for line in text.splitlines(keepends=True):
        if line.startswith("```"):
            fenced = not fenced
        if line.startswith("# ") and not fenced:
            out.append([line.strip(), line])
        elif out:
            out[-1][1] += line
    return [(t, s) for t, s in out]


def replace_section(path: str | Path, markdown: str) -> Path:
    """Write `markdown` (which starts with its '# Title' line) into `path` in place of the section of that title,
    or after the others; every other section is kept as it was."""
    path = Path(path)
    title = markdown.splitlines()[0].strip()
    old = _sections(path.read_text()) if path.is_file() else []
    body = markdown.rstrip("\n") + "\n"
    parts = [body if t == title else s for t, s in old]
    if title not in [t for t, _ in old]:
        parts.append(body)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(p.rstrip("\n") + "\n" for p in parts))
    return path
