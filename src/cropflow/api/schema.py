"""Write the app's OpenAPI schema to a file: ``python -m cropflow.api.schema docs/openapi.json``."""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from cropflow.api.app import create_app
from cropflow.settings import Settings


def write_schema(path: Path) -> None:
    # The schema does not depend on the database, but the app needs a data
    # folder, so a throwaway one keeps the real one untouched.
    with tempfile.TemporaryDirectory(prefix="cropflow-schema-") as folder:
        app = create_app(Settings(data_dir=Path(folder)))
        schema = app.openapi()
    path.write_text(json.dumps(schema, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: python -m cropflow.api.schema OUTPUT.json")
    write_schema(Path(sys.argv[1]))
