"""Serving the page: `bispecific view` compiles the kernels, then runs Solara's server.

Everything is served from this machine (the `solara[assets]` package holds the JavaScript),
so the page works without a network. Solara is imported only here, after the environment
that configures it is set, and only when the page is asked for.
"""

from __future__ import annotations

import os
import warnings
import webbrowser
from collections.abc import Callable
from pathlib import Path

from ..engine.facade.warmup import compile_kernels
from ..scenario import Scenario

APP = "bispecific.viz.page:Page"


def serve(
    scenario_path: Path | None,
    scenario: Scenario,
    host: str = "127.0.0.1",
    port: int = 8765,
    open_browser: bool = True,
    announce: Callable[[str], None] = print,
) -> None:
    """Compile the kernels, then serve the page until interrupted (Ctrl-C).

    Args:
        scenario_path: the scenario file the page starts from (None: the approved regimen).
        scenario: that scenario, already validated (for its kernels and its name).
        host, port: where to listen; port 0 picks a free port.
        open_browser: open the page in the default browser once it is served.
        announce: told one line with the address once the server listens.
    """
    compile_kernels(parallel=scenario.simulation.parallel)
    os.environ["BISPECIFIC_VIEW_SCENARIO"] = str(scenario_path.resolve()) if scenario_path \
        else ""
    os.environ["SOLARA_APP"] = APP
    os.environ.setdefault("SOLARA_TELEMETRY_MIXPANEL_ENABLE", "False")  # no network
    import solara.server.settings
    import uvicorn

    # Solara warns on every new session that plain http cannot carry a samesite=none
    # cookie; it falls back to lax, which is right for a page on this machine.
    warnings.filterwarnings("ignore", message="Cookies with samesite=none require https")

    solara.server.settings.main.mode = "production"

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if not self.started:
                return
            bound = self.servers[0].sockets[0].getsockname()[1]
            url = f"http://{host}:{bound}"
            announce(f"bispecific view: {scenario.name} at {url} (Ctrl-C stops it)")
            if open_browser:
                webbrowser.open(url)

    config = uvicorn.Config("solara.server.starlette:app", host=host, port=port,
                            log_level="warning")
    try:
        Server(config).run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C once it has shut down: done
        pass
    announce("bispecific view: stopped")
