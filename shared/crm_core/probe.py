"""``python -m crm_core.probe``: the container image's HEALTHCHECK.

One image runs every role, so the probe asks both places a role can answer on 127.0.0.1: the
gateway's port (``CRM_GATEWAY_PORT``) and the worker/scheduler health port
(``CRM_WORKER__HEALTH_PORT``). Healthy when either ``/healthz`` answers 200. Standard library and
settings only: it runs every 30 s and must stay cheap.
"""

from __future__ import annotations

import sys
import urllib.request

from crm_core.settings import load_settings


def main() -> int:
    settings = load_settings()
    ports = [settings.gateway_port]
    if settings.worker.health_port:
        ports.append(settings.worker.health_port)
    for port in ports:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=3) as resp:
                if resp.status == 200:
                    return 0
        except OSError:
            continue
    return 1


if __name__ == "__main__":
    sys.exit(main())
