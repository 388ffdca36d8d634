"""The README's and the docs' pages as a reader copies from them: each ```bash block, one
command a line (backslash continuations joined), with the comment that follows it."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
BLOCK = re.compile(r"(?:<!-- ([\w-]+) -->\n)?^```bash\n(.*?)^```", re.M | re.S)


@dataclass(frozen=True)
class Command:
    page: str  # relative to the repository root
    line: int
    text: str  # as printed, without its comment
    comment: str
    block: str  # the whole block it is in
    marker: str | None  # the <!-- name --> line right above the block, if any

    @property
    def words(self) -> list[str]:
        return shlex.split(self.text)

    def __str__(self) -> str:
        return f"{self.page}:{self.line}"


def blocks(page: Path) -> list[tuple[int, str | None, str]]:
    """Each bash block of ``page``: the line its first command is on, its marker, its text."""
    text = page.read_text()
    return [
        (text.count("\n", 0, match.start(2)) + 1, match.group(1), match.group(2))
        for match in BLOCK.finditer(text)
    ]


def split_comment(line: str) -> tuple[str, str]:
    """``nstx a=b   # note`` -> ("nstx a=b", "note"): a ``#`` that starts a shell word, outside quotes."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip(), line[index + 1 :].strip()
    return line.rstrip(), ""


def commands(page: Path) -> list[Command]:
    found = []
    for first, marker, body in blocks(page):
        start, pending = first, ""
        for number, line in enumerate(body.splitlines(), first):
            if not pending:
                start = number
            if line.endswith("\\"):
                pending += line[:-1]
                continue
            text, comment = split_comment(pending + line)
            pending = ""
            if text:
                found.append(Command(page.relative_to(ROOT).as_posix(), start, text, comment, body, marker))
    return found


ALL = [command for page in PAGES for command in commands(page)]
