"""Per-customer report settings, pure parts: validation with suggestions, the localized format,
sections and list length, and customer template blocks in the sandbox (refused when they reach
for Python internals or files outside their folder; left out with a warning when they fail)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from reporting_assets.contract import Change, Counts, ManufacturingSummary, Metrics, RunReport
from reporting_assets.customer_settings.model import (
    CustomerSettingsError,
    ReportSettings,
    check_list_length,
    check_locale,
    check_sections,
    check_subject_prefix,
    check_time_zone,
)
from reporting_assets.customer_settings.rendering import customer_rendering
from reporting_assets.customer_settings.templates import check_blocks, read_blocks, template_folder
from reporting_assets.execution_reports.render import render_report

DAY = dt.date(2025, 6, 17)
GENERATED_AT = dt.datetime(2025, 6, 17, 15, 30, 22, tzinfo=dt.UTC)


def manufacturing_report(customer: str = "PELOTON") -> RunReport:
    return RunReport(
        customer=customer,
        customer_key="PELOTON",
        pipeline_type="manufacturing_sync",
        execution_date=DAY,
        status="success",
        run_id="3f2a9c1e-5b7d-4e21-9a0c-8d6f1b2e4a77",
        counts=Counts(records_processed=12470, new=1234, updated=3),
        metrics=Metrics(execution_time_seconds=74.5),
        manufacturing=ManufacturingSummary(stage_moves={"Cutting": 1500}, qc_flagged=2, qc_passed=9),
        changes=[
            Change(category="new_order", description=f"Order {i}", key=f"K-{i}", quantity=1) for i in range(8)
        ],
        change_counts={"new_order": 1234},
        next_actions=["Check the cutting queue"],
    )


def rendered(settings: ReportSettings | None, report: RunReport | None = None) -> tuple[str, tuple[str, ...]]:
    report = report or manufacturing_report()
    custom, warnings = customer_rendering(settings, report, "Manufacturing Sync")
    markdown = render_report(
        report,
        previous=None,
        run_url="http://localhost:3000/runs/x",
        generated_at=GENERATED_AT,
        custom=custom,
    )
    return markdown, warnings


def with_templates(settings: ReportSettings, home: Path) -> ReportSettings:
    return ReportSettings(**{**settings.__dict__, "templates": read_blocks(home, settings.customer_key)})


def write_template(home: Path, name: str, text: str, key: str = "PELOTON") -> Path:
    folder = template_folder(home, key)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


# --- validation -------------------------------------------------------------------------------


def test_unknown_section_is_named_with_the_close_one() -> None:
    with pytest.raises(
        CustomerSettingsError,
        match=r"Unknown report section 'manufactoring' \(did you mean 'manufacturing'\?\)",
    ):
        check_sections(["summary", "manufactoring"])
    assert check_sections(["shipping", "summary", "shipping"]) == ["summary", "shipping"]


def test_unknown_locale_suggests_close_names() -> None:
    with pytest.raises(
        CustomerSettingsError, match=r"Unknown locale 'de_DX'\. Did you mean .*'de_DE'"
    ) as info:
        check_locale("de_DX")
    assert "en_US" in str(info.value)  # the message shows what a valid identifier looks like
    assert check_locale("de-de") == "de_DE"
    with pytest.raises(CustomerSettingsError, match="Unknown locale 'klingon'"):
        check_locale("klingon")


def test_time_zone_list_length_and_prefix_rules() -> None:
    assert check_time_zone("europe/berlin") == "Europe/Berlin"
    with pytest.raises(
        CustomerSettingsError, match=r"Unknown time zone 'Europe/Berlinn'\. Did you mean 'Europe/Berlin'"
    ):
        check_time_zone("Europe/Berlinn")
    with pytest.raises(CustomerSettingsError, match="out of range: give 1 to 1000"):
        check_list_length(0)
    with pytest.raises(CustomerSettingsError, match="control character U\\+000A"):
        check_subject_prefix("[ACME]\nBcc: x@example.com")
    assert check_subject_prefix("  [ACME] ") == "[ACME]"


# --- rendering --------------------------------------------------------------------------------


def test_settings_that_set_nothing_render_the_default_format() -> None:
    default, _ = rendered(None)
    assert rendered(ReportSettings("PELOTON", version=3))[0] == default


def test_locale_time_zone_sections_and_list_length_change_the_report() -> None:
    default, _ = rendered(None)
    settings = ReportSettings(
        "PELOTON",
        hidden_sections=frozenset({"manufacturing", "performance"}),
        list_length=2,
        locale="de_DE",
        time_zone="Europe/Berlin",
    )
    markdown, warnings = rendered(settings)
    assert warnings == ()
    assert "**Date**: 2025-06-17" in default and "**Date**: 17.06.2025" in markdown
    assert "| **Records Processed** | 12,470 |" in default
    assert "| **Records Processed** | 12.470 |" in markdown
    assert "| **Processing Time** | 1,2 minutes |" in markdown
    assert "- ... (1.232 more)" in markdown and "- ... (1,226 more)" in default  # 2 shown, not 8
    assert "*Report generated at: 17.06.2025, 17:30:22 (Europe/Berlin)*" in markdown
    assert "*Report generated at: 2025-06-17 15:30:22*" in default
    assert "Manufacturing Updates" in default and "Manufacturing Updates" not in markdown
    assert "Performance Metrics" in default and "Performance Metrics" not in markdown
    assert "## 🎯 Next Actions" in markdown


# --- customer templates -----------------------------------------------------------------------


def test_header_and_footer_blocks_render_with_escaped_values(tmp_path: Path) -> None:
    write_template(tmp_path, "header.md.j2", "> Account manager: Jane Roe, {{ customer }} ({{ date }})\n")
    write_template(tmp_path, "footer.md.j2", "New orders today: {{ counts.new }}\n")
    settings = with_templates(ReportSettings("PELOTON", locale="de_DE"), tmp_path)
    assert len(check_blocks(settings.templates)) == 2  # type: ignore[arg-type]
    markdown, warnings = rendered(settings, manufacturing_report(customer="**Bold** <b>"))
    assert warnings == ()
    assert "> Account manager: Jane Roe, \\*\\*Bold\\*\\* \\<b\\> (17.06.2025)" in markdown
    assert markdown.index("Account manager") < markdown.index("## 📊 Execution Summary")
    assert markdown.index("New orders today: 1234") < markdown.index("*Report generated at:")


def test_a_template_reaching_for_python_internals_is_refused_naming_it(tmp_path: Path) -> None:
    path = write_template(tmp_path, "header.md.j2", "{{ ''.__class__.__mro__ }}\n")
    with pytest.raises(CustomerSettingsError, match="tries to reach Python internals") as info:
        check_blocks(read_blocks(tmp_path, "PELOTON"))
    assert str(path) in str(info.value)


@pytest.mark.parametrize(
    "include", ["../OTHER/footer.md.j2", "/etc/passwd", "../../../../../etc/passwd", "outside.md.j2"]
)
def test_an_include_outside_the_folder_is_refused(tmp_path: Path, include: str) -> None:
    write_template(tmp_path, "footer.md.j2", "secret of another customer\n", key="OTHER")
    (template_folder(tmp_path, "PELOTON")).mkdir(parents=True)
    (template_folder(tmp_path, "PELOTON") / "outside.md.j2").symlink_to(
        template_folder(tmp_path, "OTHER") / "footer.md.j2"
    )
    write_template(tmp_path, "header.md.j2", f'{{% include "{include}" %}}\n')
    with pytest.raises(
        CustomerSettingsError, match=f"includes '{include}', which is not a file inside its folder"
    ):
        check_blocks(read_blocks(tmp_path, "PELOTON"))


def test_an_include_inside_the_folder_works(tmp_path: Path) -> None:
    write_template(tmp_path, "contact.md.j2", "Call us: +49 30 1234\n")
    write_template(tmp_path, "footer.md.j2", '{% include "contact.md.j2" %}')
    settings = with_templates(ReportSettings("PELOTON"), tmp_path)
    check_blocks(settings.templates)  # type: ignore[arg-type]
    assert "Call us: +49 30 1234" in rendered(settings)[0]


def test_a_template_that_does_not_compile_is_refused_naming_it(tmp_path: Path) -> None:
    path = write_template(tmp_path, "footer.md.j2", "{% if counts.new %}unclosed\n")
    with pytest.raises(
        CustomerSettingsError, match=f"{path} does not compile: Unexpected end of template.* \\(line 1\\)"
    ):
        check_blocks(read_blocks(tmp_path, "PELOTON"))


def test_a_template_failing_at_render_time_falls_back_with_a_warning(tmp_path: Path) -> None:
    write_template(
        tmp_path, "header.md.j2", "Orders per record: {{ counts.records_processed // counts.failed }}\n"
    )
    write_template(tmp_path, "footer.md.j2", "Thanks, {{ customer }}\n")
    settings = with_templates(ReportSettings("PELOTON"), tmp_path)
    markdown, warnings = rendered(settings)
    assert len(warnings) == 1
    assert "header.md.j2 fails when rendered: ZeroDivisionError" in warnings[0]
    assert "the report shows the default format there" in warnings[0]
    assert "Orders per record" not in markdown and "Thanks, PELOTON" in markdown
    default, _ = rendered(None)
    assert markdown.replace("---\n\nThanks, PELOTON\n\n", "") == default


def test_blocks_rendered_once_per_values_follow_every_value_they_read(tmp_path: Path) -> None:
    write_template(tmp_path, "header.md.j2", "{{ customer }}: {{ counts.new }} new\n")
    write_template(
        tmp_path, "footer.md.j2", "{{ (counts.new // counts.failed) if counts.failed else 'none' }}\n"
    )
    settings = with_templates(ReportSettings("PELOTON"), tmp_path)
    report = manufacturing_report()
    first, warnings = rendered(settings, report)
    assert warnings == () and "PELOTON: 1,234 new" not in first and "PELOTON: 1234 new" in first
    again, _ = rendered(settings, report.model_copy(update={"run_id": "another-run"}))
    assert again.replace("another-run", report.run_id or "") == first
    other, _ = rendered(settings, report.model_copy(update={"counts": Counts(new=5, failed=2)}))
    assert "PELOTON: 5 new" in other and "\n2\n" in other
    write_template(tmp_path, "footer.md.j2", "{{ counts.new // counts.failed }}\n")
    failing = with_templates(ReportSettings("PELOTON"), tmp_path)
    for _ in range(2):  # a failure is not remembered: every report retries and warns
        markdown, warnings = rendered(failing, report)
        assert len(warnings) == 1 and "footer.md.j2 fails when rendered: ZeroDivisionError" in warnings[0]
        assert markdown.rstrip().endswith("*") and "PELOTON: 1234 new" in markdown


NUMBERS = (0, 7, -7, 999, 1_000, -1_234, 12_345, 1_247_000, -98_765_432, 10**15)
DECIMALS = (0.0, -0.0, 0.04, -0.04, 0.05, 0.15, 0.25, 2.675, 1.005, -12.3456, 1234.5, 999.95, -1234567.891)


def test_numbers_read_as_babel_writes_them_in_every_locale() -> None:
    from babel import localedata, numbers

    from reporting_assets.customer_settings.formatting import LocalizedFormat

    for name in localedata.locale_identifiers():
        fmt = LocalizedFormat(name, None)
        # Babel drops pairs of the Swiss ' separator (de_CH: 1'000 but 1247000): compared without it
        same = (lambda text: text.replace("'", "")) if numbers.get_group_symbol(name) == "'" else str
        for value in NUMBERS:
            babel_text = numbers.format_decimal(value, format="#,##0", locale=name)
            assert same(fmt.integer(value)) == same(babel_text), (name, value)
        for digits in (1, 2):
            for number in DECIMALS:
                grouped = numbers.format_decimal(number, format="#,##0." + "0" * digits, locale=name)
                plain = numbers.format_decimal(number, format="0." + "0" * digits, locale=name)
                assert same(fmt.decimal(number, digits)) == same(grouped), (name, number)
                assert fmt.fixed(number, digits) == plain, (name, number)
    assert LocalizedFormat("de_CH", None).integer(-1_247_000) == "-1'247'000"
    assert LocalizedFormat("de_DE", None).decimal(1234.5, 1) == "1.234,5"


def test_a_remembered_timestamp_prints_its_own_zone_s_wall_clock() -> None:
    """Formatted times are remembered; an instant in another zone is an equal datetime but prints
    its own wall-clock time."""
    from zoneinfo import ZoneInfo

    from reporting_assets.customer_settings.formatting import PLAIN

    utc = dt.datetime(2025, 6, 17, 12, 0, 5, tzinfo=dt.UTC)
    berlin = utc.astimezone(ZoneInfo("Europe/Berlin"))
    assert utc == berlin
    for _ in range(2):
        assert PLAIN.timestamp(utc) == "2025-06-17 12:00:05"
        assert PLAIN.timestamp(berlin) == "2025-06-17 14:00:05"
        assert PLAIN.timestamp(utc.replace(tzinfo=None)) == "2025-06-17 12:00:05"
