"""Settings: defaults, validation messages, and the versioned JSON round trip sessions rely on."""

import json

import pytest

from core.settings import DEFAULT_SENTENCE, SETTINGS_VERSION, Settings, SettingsError, field_docs


def test_defaults_are_the_first_screen():
    s = Settings()
    assert s.sentence == DEFAULT_SENTENCE
    assert (s.query, s.n_heads, s.scoring, s.normalization) == ("it", 4, "scaled_dot", "softmax")


def test_json_round_trip_preserves_every_field():
    s = Settings(
        sentence="I drink water",
        query="wine",
        n_heads=3,
        d_k=5,
        head_strategy="axes",
        head_axes=(("drink", "eat"),),
        scoring="cosine",
        normalization="sparsemax",
        temperature=0.25,
        causal=True,
        exclude_self=True,
        oov_policy="zero",
        projection="axes",
        projection_axes=("a", "b", "c", "d"),
        selected_head=2,
        vectors_path="/x/y.txt",
    )
    text = s.to_json()
    assert json.loads(text)["version"] == SETTINGS_VERSION
    assert Settings.from_json(text) == s


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"scoring": "magic"}, "scoring must be one of"),
        ({"n_heads": 0}, "n_heads must be at least 1"),
        ({"n_heads": True}, "n_heads must be an integer"),
        ({"temperature": 0.0}, "temperature must be between"),
        ({"temperature": float("nan")}, "temperature must be between"),
        ({"selected_head": 4}, "selected_head must be at least 0 and at most 3"),
        ({"causal": "yes"}, "causal must be true or false"),
    ],
)
def test_bad_values_name_the_field(changes, message):
    with pytest.raises(SettingsError, match=message):
        Settings().updated(**changes)


def test_newer_version_is_refused_with_a_clear_message():
    data = Settings().to_dict()
    data["version"] = SETTINGS_VERSION + 1
    with pytest.raises(SettingsError, match="newer than this program"):
        Settings.from_dict(data)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{not json", "not valid JSON: Expecting property name .* at line 1, column 2$"),
        ("[1, 2]", "expected a JSON object"),
        ('{"version": 1, "colour": "red"}', "unknown settings field\\(s\\): colour"),
        ('{"sentence": "x"}', "no integer 'version'"),
        ('{"version": 1, "projection_axes": ["a", "b"]}', "projection_axes must be a list of 4"),
    ],
)
def test_malformed_files_are_refused(text, message):
    with pytest.raises(SettingsError, match=message):
        Settings.from_json(text)


def test_changed_fields_lists_only_what_changed():
    a = Settings()
    b = a.updated(temperature=2.0, causal=True)
    assert a.changed_fields(b) == {"temperature", "causal"}


def test_every_field_has_a_description():
    assert all(doc for doc in field_docs().values())
