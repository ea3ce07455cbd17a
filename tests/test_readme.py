"""The READMEs tell a newcomer the truth: the set-up commands come first, and the examples run.

Every ```python block of README.md runs against a real registry, except a block marked on the
line just above its opening fence with ``<!-- not-run: reason -->``. Before it runs, a block
gets two substitutions, both simple:

- the registry the examples talk to, ``http://localhost:15000``, becomes the test registry's URL;
- the block runs in an empty directory holding the archives it names (``my-image.tar``,
  ``app1.tar``, ...), which are copies of real archives from ``tests/fixtures/`` (``ARCHIVES``).

The registry already holds ``myapp:v1.0.0`` before each block, as it would after the examples
above it, so that the blocks that read, pull or delete that image run on their own.
README.ko.md carries the same code blocks and markers; only the prose around them is Korean.
"""

from __future__ import annotations

import ast
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import registry_sync
from tests.fixture_archives import fixture_path
from tests.integration.registry_server import RegistryServer

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
README_KO = ROOT / "README.ko.md"

SET_UP_COMMANDS = ("make demo", "make test")
FIRST_SCREEN = 40  # lines
MIN_LINES = 300  # README.md has over 600; an emptied or truncated one is a mistake

EXAMPLE_REGISTRY = "http://localhost:15000"
# The archive names the examples use, and the fixture archive each one stands for.
ARCHIVES = {
    "my-image.tar": "a-legacy-docker-save-2layers.tar",
    "exported-image.tar": "b-docker25-save-hello-world.tar",
    "image.tar": "a-legacy-docker-save-almostempty.tar",
    "app1.tar": "a-legacy-docker-save-2layers.tar",
    "app2.tar": "b-docker25-save-hello-world.tar",
    "app3.tar": "e-skopeo-docker-archive-untagged.tar",
}
SEEDED = ("my-image.tar", "myapp", "v1.0.0")

FENCE = re.compile(r"^```python\n(?P<code>.*?)^```$", re.MULTILINE | re.DOTALL)
NOT_RUN = re.compile(r"<!-- not-run: (?P<reason>\S.*?) -->")
HEADING = re.compile(r"^#{1,6} (?P<title>.+)$", re.MULTILINE)
# Any fenced block, cut out before looking for headings: a `# comment` in code is not one.
ANY_FENCE = re.compile(r"^```.*?^```$", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    """One ```python block: where it starts, its code, and why it is not run (if it is not)."""

    line: int  # of the first line of code, 1-based
    heading: str
    code: str
    not_run: str | None

    @property
    def id(self) -> str:
        slug = re.sub(r"[^a-z0-9]+", "-", self.heading.lower()).strip("-")
        return f"{slug}-line{self.line}"


def python_blocks(path: Path) -> list[Block]:
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()]
        above = before.rstrip("\n").rpartition("\n")[2]
        marker = NOT_RUN.fullmatch(above.strip())
        headings = HEADING.findall(ANY_FENCE.sub("", before))
        blocks.append(
            Block(
                line=before.count("\n") + 2,
                heading=headings[-1] if headings else path.name,
                code=match["code"],
                not_run=marker["reason"] if marker else None,
            )
        )
    return blocks


BLOCKS = python_blocks(README)


# -- what a newcomer reads first ---------------------------------------------------------------


@pytest.mark.parametrize("path", [README, README_KO], ids=lambda p: p.name)
def test_readme_is_whole_and_names_the_set_up_commands_first(path: Path) -> None:
    assert path.is_file(), f"{path.name} is missing"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) >= MIN_LINES, f"{path.name} has only {len(lines)} lines"
    first_screen = "\n".join(lines[:FIRST_SCREEN])
    for command in SET_UP_COMMANDS:
        assert f"`{command}`" in first_screen or f"\n{command} " in first_screen, (
            f"{path.name} does not name `{command}` in its first {FIRST_SCREEN} lines"
        )


def test_both_readmes_carry_the_same_examples() -> None:
    english = [(block.code, block.not_run) for block in BLOCKS]
    korean = [(block.code, block.not_run) for block in python_blocks(README_KO)]
    assert korean == english


def test_examples_not_run_say_why_and_still_parse() -> None:
    not_run = [block for block in BLOCKS if block.not_run is not None]
    assert len(not_run) < len(BLOCKS) / 2, "most examples should run"
    for block in not_run:
        assert block.not_run
        ast.parse(block.code, filename=f"README.md:{block.line}")


# -- the examples, run ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def registry() -> Iterator[RegistryServer]:
    with RegistryServer() as server:
        yield server


def runnable(block: Block) -> str:
    """The block's code with the test registry's URL, padded so tracebacks show README lines."""
    return "\n" * (block.line - 1) + block.code


@pytest.mark.integration
@pytest.mark.parametrize(
    "block", [block for block in BLOCKS if block.not_run is None], ids=lambda block: block.id
)
def test_example_runs(
    block: Block,
    registry: RegistryServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, fixture in ARCHIVES.items():
        if name in block.code:
            shutil.copyfile(fixture_path(fixture), tmp_path / name)
    archive, repository, tag = SEEDED
    registry_sync.push_docker_tar(fixture_path(ARCHIVES[archive]), registry.url, repository, tag)
    code = runnable(block).replace(EXAMPLE_REGISTRY, registry.url)
    monkeypatch.chdir(tmp_path)

    exec(compile(code, f"README.md:{block.line}", "exec"), {"__name__": "__main__"})

    printed = capsys.readouterr().out
    assert printed, "an example shows its result"
    # Every yes/no an example prints (reachable, deleted, same digest) must be a yes.
    assert not re.search(r"\bFalse\b", printed), printed
