"""Front matter of a Markdown definition (custom commands, subagents): `key: value` lines
between a first line `---` and the next `---`. No YAML library: these are flat, and a
definition must never run code."""

from __future__ import annotations


def front_matter(text: str) -> tuple[dict[str, str], str]:
    """`key: value` lines between a first line `---` and the next `---`, and the rest."""
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, text
    for end, line in enumerate(lines[1:], 1):
        if line.strip() == "---":
            meta = {}
            for entry in lines[1:end]:
                key, sep, value = entry.partition(":")
                if sep:
                    meta[key.strip().lower()] = value.strip().strip("\"'")
            return meta, "".join(lines[end + 1 :])
    return {}, text
