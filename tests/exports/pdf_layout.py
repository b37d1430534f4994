"""Where the words of a PDF are, as poppler's `pdftotext -bbox-layout` reports them.

Pages of words with their boxes (points, origin top left), grouped in blocks of lines as poppler
groups them (a table cell's lines are one block); and the checks the layout tests make on them.
"""

from __future__ import annotations

import itertools
import re
import subprocess
from dataclasses import dataclass, field
from html import unescape
from pathlib import Path

SLACK = 0.5  # points: boxes that touch (a word and the next line's) are not overlapping


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Word) -> bool:
        return (
            min(self.x1, other.x1) - max(self.x0, other.x0) > SLACK
            and min(self.y1, other.y1) - max(self.y0, other.y0) > SLACK
        )


@dataclass
class Page:
    number: int
    width: float
    height: float
    blocks: list[list[list[Word]]] = field(default_factory=list)  # block -> line -> word

    @property
    def words(self) -> list[Word]:
        return [w for block in self.blocks for line in block for w in line]


_TAG = re.compile(r"<(page|block|line|word)\b([^>]*)>(?:([^<]*)</word>)?")
_ATTR = re.compile(r'(\w+)="([^"]*)"')


def read_pages(pdf: bytes, folder: Path) -> list[Page]:
    path = folder / "layout.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(
        ["pdftotext", "-bbox-layout", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    pages: list[Page] = []
    for tag, attrs, text in _TAG.findall(out):
        a = dict(_ATTR.findall(attrs))
        if tag == "page":
            pages.append(Page(len(pages) + 1, float(a["width"]), float(a["height"])))
        elif tag == "block":
            pages[-1].blocks.append([])
        elif tag == "line":
            pages[-1].blocks[-1].append([])
        else:
            box = (float(a["xMin"]), float(a["yMin"]), float(a["xMax"]), float(a["yMax"]))
            pages[-1].blocks[-1][-1].append(Word(unescape(text), *box))
    return pages


def overlapping_words(page: Page) -> list[tuple[Word, Word]]:
    """Pairs of words whose boxes overlap: text printed over other text."""
    words = sorted(page.words, key=lambda w: w.y0)
    pairs = []
    for i, word in enumerate(words):
        for other in words[i + 1 :]:
            if other.y0 >= word.y1:
                break
            if word.overlaps(other):
                pairs.append((word, other))
    return pairs


def words_off_page(page: Page) -> list[Word]:
    return [w for w in page.words if w.x0 < 0 or w.y0 < 0 or w.x1 > page.width or w.y1 > page.height]


def text_cover(page: Page) -> float:
    """The share of the page's height that lines of text occupy (the union of the words' heights)."""
    covered, top, bottom = 0.0, None, None
    for word in sorted(page.words, key=lambda w: w.y0):
        if bottom is None or word.y0 > bottom:
            if bottom is not None:
                covered += bottom - top
            top, bottom = word.y0, word.y1
        else:
            bottom = max(bottom, word.y1)
    if bottom is not None:
        covered += bottom - top
    return covered / page.height


LETTERS = re.compile(r"[^\W\d_]+")


def _letters(text: str) -> str:
    """A word without the punctuation around it; "" unless what is left is letters only."""
    core = text.strip(".,;:!?()[]\"'\u201c\u201d\u2018\u2019")
    return core if LETTERS.fullmatch(core) else ""


def broken_words(pages: list[Page], known: frozenset[str] = frozenset()) -> list[str]:
    """Words split over two lines of one block ("deploymen" / "t", "deploy-" / "ment").

    A split is a line's last word and the next line's first word that together make a word the
    pack prints whole inside a line elsewhere (or a `known` one), while the first part is not such
    a word itself ("with" / "out" is two words).
    """
    vocabulary = {word.lower() for word in known}
    for page in pages:
        for block in page.blocks:
            for number, line in enumerate(block):
                inside = line[1 if number else 0 : -1 if number < len(block) - 1 else None]
                vocabulary.update(_letters(w.text).lower() for w in inside)
    vocabulary.discard("")
    found = []
    for page in pages:
        for block in page.blocks:
            for line, following in itertools.pairwise(block):
                if not line or not following:
                    continue
                head, tail = line[-1].text, following[0].text
                hyphenated = head.endswith("-")
                head, tail = _letters(head.rstrip("-")).lower(), _letters(tail).lower()
                if head and tail and head + tail in vocabulary and (hyphenated or head not in vocabulary):
                    found.append(f"page {page.number}: {line[-1].text} / {following[0].text}")
    return found
