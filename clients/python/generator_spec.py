"""Writes the copy of api-spec/openapi.yaml that openapi-python-client generates from.

One change only, for two open bugs of the generator (0.29.1): a request body offered in several
content types with the same schema (`POST /api/v1/auth/token`: form or JSON; `PATCH
/api/v1/children/{id}`: JSON or merge patch) gives code that cannot be imported (`Unset` used but
not imported, openapi-generators/openapi-python-client#1451) and that sends a form body labelled
JSON (#1276). Such a body keeps `application/json` alone here; the service accepts both, and the
spec itself keeps both.

    python generator_spec.py IN OUT
"""

import json
import sys

from ruamel.yaml import YAML  # openapi-python-client's own YAML reader (YAML 1.2)

source, target = sys.argv[1], sys.argv[2]
spec = YAML(typ="safe").load(open(source, encoding="utf-8"))
for path, item in spec["paths"].items():
    for method, operation in item.items():
        content = (
            operation.get("requestBody", {}).get("content", {})
            if isinstance(operation, dict)
            else {}
        )
        schemas = [json.dumps(media.get("schema"), sort_keys=True) for media in content.values()]
        if len(content) > 1 and "application/json" in content and len(set(schemas)) == 1:
            operation["requestBody"]["content"] = {"application/json": content["application/json"]}
            print(
                f"{method.upper()} {path}: request body as application/json only", file=sys.stderr
            )
with open(target, "w", encoding="utf-8") as out:
    json.dump(spec, out, ensure_ascii=False, indent=1)
