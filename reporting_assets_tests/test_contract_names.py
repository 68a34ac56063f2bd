"""Contract names are checked by a pydantic-core pattern: it refuses exactly the characters the
control-character rule refuses, and the message still names the character and its position."""

from __future__ import annotations

import datetime as dt
import sys
from typing import Annotated, Any

import pytest
from pydantic import AfterValidator, TypeAdapter, ValidationError

from reporting_assets.contract import Key, Name, RunReport, describe_problems, problem_message
from reporting_assets.reporter import PipelineReporter
from reporting_assets.text_rules import control_character_problem, refuse_control_characters

# how names were checked before the pattern: a Python validator raising the rule's message
_Checked = Annotated[str, AfterValidator(lambda value: refuse_control_characters(value, "name"))]
_SURROGATES = range(0xD800, 0xE000)


def _payload() -> dict[str, Any]:
    reporter = PipelineReporter("PELOTON", "order_sync", "run-1", execution_date=dt.date(2025, 6, 17))
    for i in range(5):
        reporter.log_change("new_order", f"Hoodie {i}", key=f"PEL-{i}")
    reporter.log_metric("items_fetched", 12)
    return reporter.build().model_dump(mode="json")


def test_the_pattern_refuses_exactly_the_control_characters() -> None:
    chars = [chr(c) for c in range(sys.maxunicode + 1) if c not in _SURROGATES]
    with pytest.raises(ValidationError, match="string_pattern_mismatch") as info:
        TypeAdapter(list[Name]).validate_python(chars)
    refused = {err["input"] for err in info.value.errors()}
    assert {err["type"] for err in info.value.errors()} == {"string_pattern_mismatch"}
    assert refused == {c for c in chars if control_character_problem(c, "name")}
    assert len(refused) == 67  # C0 (32), DEL, C1 (32), U+2028, U+2029


@pytest.mark.parametrize("value", ["abc\n", "\nabc", "a\x85b", "\x00", "PEL-1\u2029"])
def test_a_control_character_anywhere_is_refused(value: str) -> None:
    with pytest.raises(ValidationError, match="string_pattern_mismatch"):
        TypeAdapter(Key).validate_python(value)


@pytest.mark.parametrize("value", ["", "PEL-1", "Café 🎉 <b>", "zero\u200bwidth", "a\u00a0b"])
def test_names_without_control_characters_pass_unchanged(value: str) -> None:
    assert TypeAdapter(Key).validate_python(value) == value


@pytest.mark.parametrize("value", ["Evil\x1b[2J", "\x00", "para\u2028graph", "next\x85line", "del\x7f"])
def test_the_message_is_the_one_the_python_check_gave(value: str) -> None:
    with pytest.raises(ValidationError, match="Value error") as before:
        TypeAdapter(_Checked).validate_python(value)
    with pytest.raises(ValidationError, match="string_pattern_mismatch") as after:
        TypeAdapter(Name).validate_python(value)
    assert problem_message(after.value.errors()[0]) == before.value.errors()[0]["msg"]


RULE = (
    "; control characters (line breaks, tabs, escape sequences) are not allowed in names. Remove it and "
    "try again."
)


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        (
            ("changes", 3, "key"),
            "PEL\x1b-3",
            "field 'changes[3].key': Value error, The name holds the control character U+001B (ESCAPE) "
            f"at position 4{RULE} (got 'PEL\\x1b-3')",
        ),
        (
            ("customer",),
            "\x00PELOTON",
            "field 'customer': Value error, The name holds the control character U+0000 (NULL) at "
            f"position 1{RULE} (got '\\x00PELOTON')",
        ),
        (
            ("run_id",),
            "run\u20281",
            "field 'run_id': Value error, The name holds the control character U+2028 (LINE SEPARATOR) "
            f"at position 4{RULE} (got 'run\\u20281')",
        ),
        (
            ("change_counts",),
            {"new\x85order": 1},
            "field 'change_counts.'new\\x85order' (key)': Value error, The name holds the control "
            f"character U+0085 (control character) at position 4{RULE} (got 'new\\x85order')",
        ),
        (
            ("metrics", "custom"),
            {"rate\x7f": 1.0},
            "field 'metrics.custom.'rate\\x7f' (key)': Value error, The name holds the control character "
            f"U+007F (DELETE) at position 5{RULE} (got 'rate\\x7f')",
        ),
        (
            ("manufacturing", "stage_moves"),
            {"\x7fCutting": 1},
            "field 'manufacturing.stage_moves.'\\x7fCutting' (key)': Value error, The name holds the "
            f"control character U+007F (DELETE) at position 1{RULE} (got '\\x7fCutting')",
        ),
    ],
)
def test_a_refused_name_reads_as_before(path: tuple[str | int, ...], value: object, expected: str) -> None:
    payload = _payload()
    target: Any = payload
    for part in path[:-1]:
        if target[part] is None:  # a section the run did not report
            target[part] = {}
        target = target[part]
    target[path[-1]] = value
    with pytest.raises(ValidationError, match="string_pattern_mismatch") as info:
        RunReport.model_validate(payload)
    assert describe_problems(info.value) == expected
