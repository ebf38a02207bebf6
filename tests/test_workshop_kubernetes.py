"""The Zero to JupyterHub configuration: well-formed, what the instructors' guide promises, and its validator works.

No Kubernetes cluster runs here, and the chart's schema is not part of this repository: the validator is tested on a
small chart folder made here that has the chart's shape (values.yaml and values.schema.json). The configuration was
checked against the real chart's schema when it was written (docs/instructors.md says which version).
"""

import importlib.util
import json

import yaml

from tests.conftest import REPO

KUBERNETES = REPO / "workshop" / "kubernetes"


def validator():
    spec = importlib.util.spec_from_file_location("validate", KUBERNETES / "validate.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def config() -> dict:
    return yaml.safe_load((KUBERNETES / "config.yaml").read_text())


def megabytes(size: str) -> float:
    units = {"K": 1e-3, "M": 1, "G": 1e3, "Ki": 1.024e-3, "Mi": 1.048576, "Gi": 1073.741824}
    number = size.rstrip("KMGi")
    return float(number) * units[size[len(number):]]


def test_the_configuration_gives_each_participant_memory_a_lesson_needs_and_culls_idle_servers():
    singleuser = config()["singleuser"]
    assert megabytes(singleuser["memory"]["guarantee"]) >= 150 + 290  # a server and the usual lesson's kernel, measured
    assert megabytes(singleuser["memory"]["limit"]) >= 150 + 490  # lesson 14's kernel at its peak (a 1M-row table)
    assert megabytes(singleuser["memory"]["limit"]) >= 2 * megabytes(singleuser["memory"]["guarantee"]) - 24
    assert config()["cull"]["enabled"] is True and config()["cull"]["timeout"] >= 1800


def test_the_lessons_reach_each_home_by_nbgitpuller_into_a_folder_of_their_own():
    command = config()["singleuser"]["lifecycleHooks"]["postStart"]["exec"]["command"]
    assert command[0] == "gitpuller" and command[3] in config()["singleuser"]["defaultUrl"]
    assert (REPO / config()["singleuser"]["defaultUrl"].split(command[3] + "/", 1)[1]).exists()


def test_the_room_logs_in_with_a_shared_password_set_at_install_not_in_the_file():
    hub = config()["hub"]["config"]
    assert hub["JupyterHub"]["authenticator_class"] == "shared-password"
    assert "user_password" not in hub.get("SharedPasswordAuthenticator", {})


def small_chart(tmp_path):
    """A chart folder with the real chart's shape: defaults, and a schema that refuses unknown keys."""
    schema = {"type": "object", "additionalProperties": False, "properties": {
        "hub": {"type": "object"}, "prePuller": {"type": "object"},
        "cull": {"type": "object", "properties": {"enabled": {"type": "boolean"}, "timeout": {"type": "integer"},
                                                  "every": {"type": "integer"}}, "additionalProperties": False},
        "singleuser": {"type": "object", "additionalProperties": False, "properties": {
            key: {"type": "object"} for key in ("image", "lifecycleHooks", "storage", "memory", "cpu")} | {
            "defaultUrl": {"type": "string"}}}}}
    tmp_path.mkdir()
    (tmp_path / "values.schema.json").write_text(json.dumps(schema))
    (tmp_path / "values.yaml").write_text("cull:\n  enabled: false\n  timeout: 600\n")
    return tmp_path


def test_the_validator_passes_the_configuration_and_names_a_misspelled_or_mistyped_setting(tmp_path):
    chart = small_chart(tmp_path / "chart")
    assert validator().problems(chart) == []
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text((KUBERNETES / "config.yaml").read_text().replace("  memory:", "  memmory:")
                     .replace("timeout: 3600", "timeout: an hour"))
    found = validator().problems(chart, wrong)
    assert found == ["cull.timeout: 'an hour' is not of type 'integer'",
                     "singleuser: Additional properties are not allowed ('memmory' was unexpected)"], found


def test_the_validator_merges_like_helm_dictionaries_key_by_key():
    merged = validator().merged({"cull": {"enabled": False, "every": 600}, "a": [1]}, {"cull": {"enabled": True},
                                                                                       "a": [2]})
    assert merged == {"cull": {"enabled": True, "every": 600}, "a": [2]}
