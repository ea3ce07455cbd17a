"""The repository carries what it cites.

Code and documents cite the protocol notes as `docs/protocol.md §3.4`; every cited section must
have its heading there, and no citation may leave out the `docs/` that makes it a path. Every
relative link in the Markdown documents must point at a file of the repository.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
PROTOCOL = ROOT / "docs" / "protocol.md"

_NUMBER = r"\d+(?:\.\d+)*"
# `docs/protocol.md §3.4`, `§3, §4`, `§5-§8`, `§10.1-10.4`; a line break may follow the name.
_CITATION = re.compile(
    rf"docs/protocol\.md\s+(§{_NUMBER}(?:\s*-\s*§?{_NUMBER}|\s*,\s*§{_NUMBER})*)"
)
_BARE_CITATION = re.compile(r"(?<![\w/.-])protocol\.md\s+§")
# `## 3. Blob upload`, `### 3.4 Chunked upload`
_HEADING = re.compile(rf"^#{{2,3}} ({_NUMBER})\.? ", re.MULTILINE)
# Inside the notes a bare `§6.3` is a reference to another section, `RFC 9110 §11.6.1` is not.
_INNER_REFERENCE = re.compile(rf"(RFC \d+ )?§({_NUMBER})")

_FENCE = re.compile(r"^```.*?^```", re.MULTILINE | re.DOTALL)
_CODE_SPAN = re.compile(r"`[^`\n]*`")
_INLINE_LINK = re.compile(r"\[[^\]\n]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK_DEFINITION = re.compile(r"^\s{0,3}\[[^\]\n]+\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)


def _repository_files() -> list[Path]:
    """The files git tracks or would track (new ones included, ignored ones not)."""
    try:
        listing = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=ROOT,
            capture_output=True,
            check=True,
            text=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):  # not a git checkout: walk the tree
        return sorted(
            path
            for path in ROOT.rglob("*")
            if path.is_file() and not any(p.startswith(".") for p in path.relative_to(ROOT).parts)
        )
    return sorted(ROOT / name for name in listing.split("\0") if name and (ROOT / name).is_file())


def _files(*suffixes: str) -> list[Path]:
    return [path for path in _repository_files() if path.suffix in suffixes]


def _cited_sections(text: str) -> list[str]:
    """Every section number cited in `text`; a range contributes both of its ends."""
    return [
        number
        for match in _CITATION.finditer(text)
        for number in re.findall(_NUMBER, match.group(1))
    ]


def _sections() -> set[str]:
    return set(_HEADING.findall(PROTOCOL.read_text(encoding="utf-8")))


def _prose(markdown: str) -> str:
    """`markdown` without code blocks and code spans, whose brackets are not links."""
    return _CODE_SPAN.sub("", _FENCE.sub("", markdown))


def _relative_targets(markdown: str) -> list[str]:
    prose = _prose(markdown)
    targets = _INLINE_LINK.findall(prose) + _LINK_DEFINITION.findall(prose)
    return [t for t in targets if not urlsplit(t).scheme and not t.startswith(("#", "//"))]


def test_the_scanner_reads_every_citation_form() -> None:
    text = (
        "(docs/protocol.md §3, §4). docs/protocol.md §5-§8, §11 and docs/protocol.md\n"
        "§10.1-10.4: which images. Not docs/protocol.md §N, nor §9 alone."
    )
    assert _cited_sections(text) == ["3", "4", "5", "8", "11", "10.1", "10.4"]
    name = "protocol.md"  # spelled apart, or this file would cite it bare
    assert _BARE_CITATION.search(f"see {name} §2")
    assert _BARE_CITATION.search(f"({name}\n§10)")
    assert not _BARE_CITATION.search(f"see docs/{name} §2")


def test_the_notes_have_every_numbered_section() -> None:
    sections = _sections()
    assert {str(n) for n in range(1, 13)} <= sections
    assert {"2.5", "3.8", "5.3", "6.5", "7.2", "8.3", "9.2", "10.9"} <= sections


def test_every_cited_section_has_a_heading() -> None:
    sections = _sections()
    cited: dict[str, list[str]] = {}
    for path in _files(".py", ".md"):
        for number in _cited_sections(path.read_text(encoding="utf-8")):
            cited.setdefault(number, []).append(str(path.relative_to(ROOT)))
    assert len(cited) >= 10, "the code cites the notes throughout; the scanner found too little"
    missing = {number: where for number, where in cited.items() if number not in sections}
    assert not missing, f"cited sections with no heading in docs/protocol.md: {missing}"


def test_no_citation_leaves_out_the_directory() -> None:
    bare = []
    for path in _files(".py", ".md"):
        text = path.read_text(encoding="utf-8")
        for match in _BARE_CITATION.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            bare.append(f"{path.relative_to(ROOT)}:{line}")
    assert not bare, f"cite the notes as docs/protocol.md §N: {bare}"


def test_references_inside_the_notes_resolve() -> None:
    sections = _sections()
    text = PROTOCOL.read_text(encoding="utf-8")
    referenced = {number for rfc, number in _INNER_REFERENCE.findall(text) if not rfc}
    assert referenced, "the notes refer to their own sections"
    assert referenced <= sections, f"no such section: {sorted(referenced - sections)}"


def test_relative_links_point_at_repository_files() -> None:
    documents = [
        path
        for path in _files(".md")
        if path.parent == ROOT / "docs" or path.name.startswith("README")
    ]
    assert PROTOCOL in documents
    broken = []
    checked = 0
    for document in documents:
        for target in _relative_targets(document.read_text(encoding="utf-8")):
            path = unquote(urlsplit(target).path)
            if not path:  # a fragment of the document itself
                continue
            checked += 1
            resolved = (document.parent / path).resolve()
            if not resolved.is_relative_to(ROOT) or not resolved.exists():
                broken.append(f"{document.relative_to(ROOT)}: {target}")
    assert checked, "the documents link to one another"
    assert not broken, f"relative links to files the repository does not have: {broken}"
