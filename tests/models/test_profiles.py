"""Model profiles as data: every family file loads, names pick the right family (and a GGUF's own
name does too), an override wins, and a malformed file is refused naming the file and the key."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import pytest

from freehold.models.profiles import (
    DIALECTS,
    REASONING,
    TOOLS,
    Profile,
    load_profiles,
    profile_for,
)

FAMILIES = {"default", "qwen2.5-coder", "qwen3", "qwen3-coder", "deepseek-v3", "deepseek-r1", "llama3", "mistral",
            "gpt-oss", "glm"}
PACKAGED = resources.files("freehold.models").joinpath("profiles")


def test_every_family_file_loads_and_default_comes_last():
    profiles = load_profiles()
    files = [f.name for f in PACKAGED.iterdir() if f.name.endswith(".toml")]
    assert {p.name for p in profiles} == FAMILIES
    assert len(profiles) == len(files)  # each file is one profile: none skipped
    assert profiles[-1].name == "default"
    for p in profiles:
        assert p.dialect in DIALECTS and p.tools in TOOLS and p.reasoning in REASONING
        assert p.name == "default" or (p.match and p.context_window and p.context_window >= 8192)


def test_the_order_tries_narrow_families_before_wide_ones():
    order = [p.name for p in load_profiles()]
    assert order.index("qwen3-coder") < order.index("qwen3")
    assert order.index("deepseek-r1") < min(order.index("qwen2.5-coder"), order.index("qwen3"), order.index("llama3"))


def test_every_recommended_sampling_says_where_it_came_from():
    for f in PACKAGED.iterdir():
        lines = f.read_text(encoding="utf-8").splitlines()
        if "[sampling]" in lines:
            assert lines[lines.index("[sampling]") - 1].startswith("#"), f"{f.name}: [sampling] without its source"


@pytest.mark.parametrize("model, family", [
    ("Qwen/Qwen2.5-Coder-32B-Instruct", "qwen2.5-coder"),
    ("qwen2.5-coder:7b-instruct-q4_K_M", "qwen2.5-coder"),
    ("qwen3-coder:30b", "qwen3-coder"),
    ("Qwen/Qwen3-Coder-480B-A35B-Instruct", "qwen3-coder"),
    ("Qwen3-30B-A3B", "qwen3"),
    ("qwen3:8b", "qwen3"),
    ("deepseek-r1:14b", "deepseek-r1"),
    ("deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "deepseek-r1"),  # not qwen: the distill's family is R1's
    ("DeepSeek-R1-Distill-Llama-8B", "deepseek-r1"),
    ("deepseek-ai/DeepSeek-V3-0324", "deepseek-v3"),
    ("meta-llama/Llama-3.1-8B-Instruct", "llama3"),
    ("llama3.3:70b", "llama3"),
    ("llama3:8b", "default"),  # Llama 3.0: an 8K window and no tool training
    ("devstral-small-2505", "mistral"),
    ("mistralai/Mistral-Small-3.1-24B-Instruct-2503", "mistral"),
    ("codestral:22b", "mistral"),
    ("gpt-oss-20b", "gpt-oss"),
    ("openai/gpt-oss-120b", "gpt-oss"),
    ("glm-4.5-air", "glm"),
    ("zai-org/GLM-4.6", "glm"),
    ("unknown-model", "default"),
])
def test_a_model_name_picks_its_family(model, family):
    assert profile_for(model).name == family


def test_a_gguf_names_its_family_when_the_file_name_does_not():
    names = ("Qwen2.5 Coder 7B Instruct", "Qwen2.5-Coder")  # general.name, general.basename
    assert profile_for("model-q4.gguf", gguf_names=names).name == "qwen2.5-coder"
    assert profile_for("my-finetune", gguf_names=("Meta Llama 3.1 8B Instruct",)).name == "llama3"
    assert profile_for(None, gguf_names=("Qwen3-Coder-30B-A3B-Instruct",)).name == "qwen3-coder"


def test_only_a_gguf_path_s_file_name_counts():
    assert profile_for("/srv/mistral/qwen3-coder-30b-a3b-q4_k_m.gguf").name == "qwen3-coder"


def test_the_families_say_what_the_brief_of_each_model_says():
    by_name = {p.name: p for p in load_profiles()}
    assert by_name["qwen3-coder"].dialect == "qwen3coder" and by_name["qwen3"].dialect == "hermes"
    assert by_name["deepseek-r1"].closes_with_bare_think_end and by_name["qwen3"].closes_with_bare_think_end
    assert not by_name["qwen3-coder"].closes_with_bare_think_end
    assert by_name["qwen2.5-coder"].context_window == 32768 and by_name["llama3"].context_window == 131072
    assert dict(by_name["qwen3"].sampling.items()) == {"temperature": 0.6, "top_p": 0.95, "top_k": 20, "min_p": 0.0}
    assert by_name["default"].context_window is None and by_name["default"].sampling.items() == []


def test_an_override_wins_and_an_unknown_one_names_the_known_ones():
    assert profile_for("gpt-oss-20b", override="qwen3").name == "qwen3"
    assert profile_for("qwen3:8b", override="default").name == "default"
    with pytest.raises(ValueError, match=r"no model profile named 'qwen9'.*deepseek-r1, deepseek-v3, default"):
        profile_for("qwen3:8b", override="qwen9")


def test_the_packaged_profiles_are_read_once():
    assert load_profiles() == load_profiles() and load_profiles() is not load_profiles()  # a copy each time


# -- malformed files ---------------------------------------------------------------------------

GOOD = """name = "{name}"
match = ['fam']
dialect = "hermes"
tools = "native"
reasoning = "none"
closes_with_bare_think_end = false
"""


def profiles_dir(tmp_path: Path, extra: str = "", name: str = "fam") -> Path:
    (tmp_path / "default.toml").write_text(GOOD.format(name="default").replace("['fam']", "[]"))
    (tmp_path / f"{name}.toml").write_text(GOOD.format(name=name) + extra)
    return tmp_path


def test_a_directory_of_profiles_loads_and_is_used(tmp_path):
    loaded = load_profiles(profiles_dir(tmp_path, "context_window = 4096\n[sampling]\ntemperature = 1\n"))
    assert [p.name for p in loaded] == ["fam", "default"]
    assert loaded[0].sampling.temperature == 1.0 and isinstance(loaded[0].sampling.temperature, float)
    assert profile_for("my-fam-7b", profiles=loaded) == loaded[0]
    assert profile_for("other", profiles=loaded).name == "default"


@pytest.mark.parametrize("extra, message", [
    ("colour = 'red'\n", r"profiles/fam.toml: unknown key 'colour'"),
    ("context_window = '32k'\n", r"profiles/fam.toml: key 'context_window' must be a whole number"),
    ("context_window = true\n", r"profiles/fam.toml: key 'context_window' must be a whole number"),
    ("[sampling]\ntemperature = 7\n", r"profiles/fam.toml: key 'sampling.temperature' must be a number from 0.0 to 2"),
    ("[sampling]\ntop_k = 20.5\n", r"profiles/fam.toml: key 'sampling.top_k' must be a whole number"),
    ("[sampling]\ntop_k = true\n", r"profiles/fam.toml: key 'sampling.top_k' must be a whole number"),
    ("[sampling]\nrepetition_penalty = 1.05\n", r"profiles/fam.toml: unknown key 'sampling.repetition_penalty'"),
    ("priority = -1\n", r"profiles/fam.toml: key 'priority' must be a whole number from 0 to 1000"),
])
def test_a_bad_value_or_key_names_the_file_and_the_key(tmp_path, extra, message):
    with pytest.raises(ValueError, match=message):
        load_profiles(profiles_dir(tmp_path, extra))


@pytest.mark.parametrize("replace, message", [
    (('dialect = "hermes"', 'dialect = "xml"'), r"key 'dialect' must be one of hermes, qwen3coder, mistral"),
    (('tools = "native"', 'tools = "json"'), r"key 'tools' must be one of native, prompt, got 'json'"),
    (("closes_with_bare_think_end = false", "closes_with_bare_think_end = 0"), r"key 'closes_with_bare_think_end'"),
    (("match = ['fam']", "match = ['fam(']"), r"key 'match': 'fam\(' is not a valid regular expression"),
    (("match = ['fam']", "match = 'fam'"), r"key 'match' must be a list"),
    (('reasoning = "none"\n', ""), r"missing key 'reasoning'"),
    (('name = "fam"', 'name = "other"'), r"key 'name' is 'other', but must be the file's name, 'fam'"),
    (('tools = "native"', 'tools = native'), r"not valid TOML"),
])
def test_a_malformed_file_is_refused_naming_file_and_key(tmp_path, replace, message):
    directory = profiles_dir(tmp_path)
    path = directory / "fam.toml"
    path.write_text(path.read_text().replace(*replace))
    with pytest.raises(ValueError, match=rf"^profiles/fam\.toml: .*{message}"):
        load_profiles(directory)


def test_a_directory_without_a_default_is_refused(tmp_path):
    directory = profiles_dir(tmp_path)
    (directory / "default.toml").unlink()
    with pytest.raises(ValueError, match="no default.toml"):
        load_profiles(directory)


def test_a_missing_directory_is_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match=r"profiles: the directory .*absent is missing"):
        load_profiles(tmp_path / "absent")  # an install without its data files


def test_a_profile_is_plain_frozen_data():
    p = load_profiles()[0]
    assert isinstance(p, Profile)
    with pytest.raises(AttributeError):
        p.name = "x"  # type: ignore[misc]
