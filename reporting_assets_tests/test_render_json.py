"""The report's indented JSON (the performance block): orjson writes it only where its text is
``json.dumps``' byte for byte, on generated values across float magnitudes, int widths and
string characters."""

from __future__ import annotations

import json
import math
import random
import struct
import sys

import orjson

from reporting_assets.contract import DatabaseOperations, Metrics, RunReport
from reporting_assets.execution_reports.render import (
    indented_json,
    performance_json,
    performance_payload,
    same_in_orjson,
)
from reporting_assets.markdown_text import code_block_safe

FLOAT_EDGES = [
    0.0,
    -0.0,
    5e-324,
    -5e-324,
    sys.float_info.min,
    sys.float_info.max,
    1e-4,
    math.nextafter(1e-4, 0),
    math.nextafter(1e-4, 1),
    -1e-4,
    1e-5,
    0.00011,
    9999999999999998.0,
    math.nextafter(1e16, 0),
    1e16,
    -1e16,
    1.5e16,
    1e15,
    123456789.123,
    0.1,
    1 / 3,
    2.0**53,
    2.0**53 + 2,
    math.nan,
    math.inf,
    -math.inf,
]
INT_EDGES = [0, -1, 2**31, 2**53 + 1, 2**63 - 1, 2**63, 2**64 - 1, 2**64, -(2**63), -(2**63) - 1, 10**30]
STRING_EDGES = [
    "",
    "".join(map(chr, range(0x20))),  # every control character: \n \t \b \f \r and \u00XX escapes
    "\x7f\x80\x9f\xa0",
    '"quoted" \\ back/slash',
    "\u2028\u2029\ufeff\u200b",
    "élan ✓ 😀 日本語",
    "lone \ud800 surrogate",
    "\udfff",
]
UNICODE_NAMES = ["élan_rate", "日本語", "emoji 😀", "zero\u200bwidth", "Ωmega", "\u2028sep", 'a"b\\c']


def random_float(rng: random.Random) -> float:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(FLOAT_EDGES)
    if kind == 1:  # any bit pattern: every magnitude, subnormals, NaN and infinities
        return float(struct.unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0])
    if kind == 2:  # the exponent-form boundaries
        return rng.choice([1e-4, 1e16]) * rng.uniform(0.9, 1.1) * rng.choice([1, -1])
    return round(rng.uniform(0, 10_000), rng.randrange(6))


def random_string(rng: random.Random) -> str:
    if rng.random() < 0.3:
        return rng.choice(STRING_EDGES)
    alphabet = [chr(c) for c in (*range(0x30), 0x7F, 0x85, 0xE9, 0x2028, 0xD800, 0xDC00, 0xFFFF, 0x1F600)]
    return "".join(
        rng.choice(alphabet) if rng.random() < 0.3 else chr(rng.randrange(0x20, 0x7F)) for _ in range(8)
    )


def random_value(rng: random.Random, depth: int = 0) -> object:
    kind = rng.randrange(7 if depth < 3 else 5)
    if kind == 0:
        return random_float(rng)
    if kind == 1:
        return rng.choice(INT_EDGES) if rng.random() < 0.5 else rng.randrange(-(10**6), 10**6)
    if kind == 2:
        return random_string(rng)
    if kind == 3:
        return rng.choice([True, False, None])
    if kind == 4:
        return {}
    if kind == 5:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {random_string(rng): random_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def test_indented_json_is_json_dumps_byte_for_byte() -> None:
    rng = random.Random(20250617)
    values = [*FLOAT_EDGES, *INT_EDGES, *STRING_EDGES, {}, [], {"a": {}, "b": []}]
    values += [random_value(rng) for _ in range(3000)]
    fast = 0
    for value in values:
        expected = json.dumps(value, indent=2, ensure_ascii=False)
        assert indented_json(value) == expected, value
        if same_in_orjson(value):
            # where the check lets orjson write, orjson writes the same text or refuses the value
            try:
                assert orjson.dumps(value, option=orjson.OPT_INDENT_2).decode() == expected, value
                fast += 1
            except orjson.JSONEncodeError:
                pass
    assert fast > len(values) / 3  # the fast path is taken, not only the fallback


def test_exponent_floats_and_nan_take_json_dumps() -> None:
    for value in (1e-5, 1e16, 5e-324, math.nextafter(1e-4, 0), math.nan, math.inf):
        assert not same_in_orjson({"x": value})
    for value in (0.0, -0.0, 1e-4, 9999999999999998.0, 144.0, 8.66):
        assert same_in_orjson({"x": value})


def test_performance_block_of_generated_metrics_matches_json_dumps() -> None:
    rng = random.Random(7)
    for _ in range(300):
        names = [random_string(rng) for _ in range(rng.randrange(4))] + rng.sample(UNICODE_NAMES, 2)
        printable = ["".join(ch for ch in name if ch.isprintable()) or "metric" for name in names]
        floats = [f for f in (random_float(rng) for _ in range(6)) if math.isfinite(f)]
        metrics = Metrics(
            execution_time_seconds=abs(floats[0]) if floats else 0.0,
            records_per_second=abs(floats[-1]) if floats else 0.0,
            database_operations=DatabaseOperations(inserts=rng.randrange(10**6)),
            api_calls={name: rng.randrange(2**63) for name in printable},
            custom={name: rng.choice(floats or [0.0]) for name in printable},
        )
        report = RunReport.model_validate(
            {
                "customer": "C",
                "customer_key": "C",
                "pipeline_type": "order_sync",
                "execution_date": "2025-06-17",
                "status": "success",
                "metrics": metrics,
            }
        )
        payload = performance_payload(report)
        assert payload["api_calls"] == metrics.api_calls
        assert payload.get("custom", {}) == dict(sorted(metrics.custom.items()))
        assert performance_json(report) == code_block_safe(json.dumps(payload, indent=2, ensure_ascii=False))
