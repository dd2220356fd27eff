"""Embedding through JSON: a dataset document on stdin, the recommendation on stdout.

This is how an HR system written in another language uses the library: it exports its
data as a dataset document (schema: docs/schemas/dataset.schema.json), runs this script
(or the same three lines inside its own Python service), and reads the result document
(schema: docs/schemas/result.schema.json). Errors go to stderr as JSON with every problem.

    python examples/embedding/recommend_json.py < dataset.json > result.json
"""

from __future__ import annotations

import json
import sys

from pydantic import ValidationError

from mutasi_rules import Dataset, InputError, MutasiRulesError, RecommendOptions, recommend


def main() -> int:
    try:
        dataset = Dataset.model_validate_json(sys.stdin.read())
    except ValidationError as error:
        problems = [{"field": ".".join(map(str, e["loc"])), "message": e["msg"], "value": e.get("input")}
                    for e in error.errors()]
        json.dump({"error": "invalid dataset", "problems": problems}, sys.stderr, ensure_ascii=False, default=str)
        return 1
    try:
        result = recommend(dataset, RecommendOptions(max_moves=20))
    except InputError as error:
        json.dump({"error": error.what, "code": error.code,
                   "problems": [p.model_dump(mode="json") for p in error.problems]}, sys.stderr)
        return error.exit_code
    except MutasiRulesError as error:  # a plugin or the engine failed: the message says which
        json.dump({"error": str(error), "code": error.code, "problems": []}, sys.stderr)
        return error.exit_code
    sys.stdout.write(result.to_json() + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
