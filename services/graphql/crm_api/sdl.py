"""Print the schema's SDL, or check it against the committed ``schema.graphql`` (the contract).

``python -m crm_api.sdl > schema.graphql`` updates it deliberately;
``python -m crm_api.sdl --check schema.graphql`` fails on any difference.
"""

from __future__ import annotations

import difflib
import sys
from pathlib import Path

from crm_api.schema import build_schema
from crm_core.settings import Settings


def sdl() -> str:
    return build_schema(Settings()).as_str() + "\n"


def main(argv: list[str]) -> int:
    current = sdl()
    if len(argv) == 2 and argv[0] == "--check":
        committed = Path(argv[1]).read_text(encoding="utf-8") if Path(argv[1]).exists() else ""
        if committed != current:
            sys.stdout.writelines(
                difflib.unified_diff(
                    committed.splitlines(True), current.splitlines(True), argv[1], "code"
                )
            )
            print(
                "\nschema.graphql differs from the code; run `make schema` if the change is deliberate."
            )
            return 1
        return 0
    sys.stdout.write(current)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
