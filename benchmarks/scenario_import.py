"""Import time: a fresh interpreter importing each client library, and nothing else.

Each run is ``python -c "import NAME"`` in the library's own environment, timed from spawn to
exit like every other scenario; the limit is the same interpreter doing nothing
(``python -c pass``), so the difference is the import itself. Bytecode is cached, as after an
install.
"""

from __future__ import annotations

import sys
from pathlib import Path

from _common import Contender, Role, Sample, Suite, run_rounds, run_timed
from _peers import DXF, RAV2, peer_python
from _report import Row, ScenarioResult

__all__ = ["run_import"]

BARE = "python -c pass (limit)"


def _python(code: str, name: str, role: Role, interpreter: Path | str) -> Contender[None]:
    # -P keeps the working directory (the project root) off a peer's sys.path: the project's
    # own registry_api_v2_client would shadow the peer's package of the same name.
    safe_path = ["-P"] if role == "peer" else []

    def command(_: None) -> list[str]:
        return [str(interpreter), *safe_path, "-c", code]

    return Contender(code, name, role, command)


SETUP = (
    'Start a new interpreter and import one library (`python -c "import registry_async"`; '
    "`import registry_api_v2_client` for registry-api-v2-client, `import dxf` for python-dxf), "
    "{repeat} runs each, interleaved. The limit is the bare interpreter (`python -c pass`); "
    "httpx is this project's HTTP dependency alone, for scale. The peers are imported in their "
    "own environments, from the same Python."
)


def run_import(suite: Suite, *, repeat: int) -> ScenarioResult:
    """Time each library's import, ``repeat`` runs each."""
    contenders = [
        _python("import registry_async", "registry_async", "ours", sys.executable),
        _python("import registry_sync", "registry_sync", "ours", sys.executable),
        _python("import httpx", "httpx (a dependency)", "floor", sys.executable),
        _python("import registry_api_v2_client", RAV2.name, "peer", peer_python(RAV2)),
        _python("import dxf", DXF.name, "peer", peer_python(DXF)),
        _python("pass", BARE, "limit", sys.executable),
    ]

    def measure(contender: Contender[None], run: str) -> Sample:
        timing = run_timed(contender.command(None), suite.env, contender.name)
        return Sample(timing.seconds, timing.cpu_seconds, timing.peak_rss_mib)

    samples = run_rounds(contenders, repeat=repeat, warm_up=True, measure=measure)
    return ScenarioResult(
        key="import",
        title="Import time",
        setup=SETUP.format(repeat=repeat),
        rows=[Row(c.name, c.role, samples[c.name]) for c in contenders],
        limit=BARE,
        peers=[RAV2.name, DXF.name],
        parameters={"repeat": repeat},
    )
