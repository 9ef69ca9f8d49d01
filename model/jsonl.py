"""One JSON-Lines parser for every reader, so every bad line is reported the same way.

>>> list(json_objects(['{"a": 1}', "", '{"b": 2}'], "f.jsonl", ValueError))
[(1, {'a': 1}), (3, {'b': 2})]
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator


def json_objects(lines: Iterable[str], where: str, error: type[Exception], hint: str = ""
                 ) -> Iterator[tuple[int, dict]]:
    """Yield (line number, object) for each non-blank line; raise ``error`` naming ``where:line``."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise error(f"{where}:{n}: not valid JSON ({e.msg}){hint}") from e
        if not isinstance(obj, dict):
            raise error(f"{where}:{n}: each line must be a JSON object{hint}")
        yield n, obj
