"""Import time: a fresh interpreter importing each client library, and nothing else.

Each run is ``python -c "import NAME"`` in the library's own environment, timed from spawn to
exit like every other scenario; the limit is the same interpreter doing nothing
(``python -c pass``), so the difference is the import itself. Bytecode is cached, as after an
install.
"""

from __future__ import annotations

from _common import Contender, Role, Sample, Suite, run_rounds, run_timed
from _report import Row, ScenarioResult
from _venvs import DXF, PROJECT, RAV2, Venv, venv_python

__all__ = ["run_import"]

BARE = "python -c pass (limit)"


def _python(code: str, name: str, role: Role, venv: Venv) -> Contender[None]:
    def command(_: None) -> list[str]:
        return [str(venv_python(venv)), "-c", code]

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
        _python("import registry_async", "registry_async", "ours", PROJECT),
        _python("import registry_sync", "registry_sync", "ours", PROJECT),
        _python("import httpx", "httpx (a dependency)", "floor", PROJECT),
        _python("import registry_api_v2_client", RAV2.name, "peer", RAV2),
        _python("import dxf", DXF.name, "peer", DXF),
        _python("pass", BARE, "limit", PROJECT),
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
