"""Check config.yaml against the Zero to JupyterHub chart's own schema before a class, as `helm install` would.

    helm repo add jupyterhub https://hub.jupyter.org/helm-chart/
    helm pull jupyterhub/jupyterhub --version <chart version> --untar      # makes ./jupyterhub/
    python workshop/kubernetes/validate.py jupyterhub                       # prints what is wrong, or "valid"

The chart validates the merged values (its defaults, then this file's) against ``values.schema.json``; so does this
script, and it names each setting that is misspelled, misplaced or of the wrong type.
"""

from __future__ import annotations

import copy
import json
import sys
from pathlib import Path

import jsonschema
import yaml

CONFIG = Path(__file__).resolve().parent / "config.yaml"


def merged(defaults: dict, overrides: dict) -> dict:
    """Helm's merge of values: dictionaries merge key by key, anything else in ``overrides`` replaces."""
    result = copy.deepcopy(defaults)
    for key, value in overrides.items():
        both_dicts = isinstance(value, dict) and isinstance(result.get(key), dict)
        result[key] = merged(result[key], value) if both_dicts else value
    return result


def load_schema(chart: Path) -> dict:
    if (chart / "values.schema.json").exists():
        return json.loads((chart / "values.schema.json").read_text())
    if (chart / "values.schema.yaml").exists():  # the chart's source repository keeps it as YAML
        return yaml.safe_load((chart / "values.schema.yaml").read_text())
    raise FileNotFoundError(f"{chart} holds no values.schema.json: give the folder `helm pull --untar` made")


def problems(chart: Path, config: Path = CONFIG) -> list[str]:
    """Each way the merged values break the chart's schema, as `path: message`; empty when they are valid."""
    values = merged(yaml.safe_load((chart / "values.yaml").read_text()), yaml.safe_load(config.read_text()))
    validator = jsonschema.Draft7Validator(load_schema(chart))
    return sorted(f"{'.'.join(map(str, error.path)) or '(top)'}: {error.message}"
                  for error in validator.iter_errors(values))


if __name__ == "__main__":
    found = problems(Path(sys.argv[1]), Path(sys.argv[2]) if len(sys.argv) > 2 else CONFIG)
    print("\n".join(found) if found else "valid")
    sys.exit(1 if found else 0)
