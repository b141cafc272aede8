"""CronJob schedules: the firing times the missed-run check counts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tools.kubernetes.cron import CronError, parse_schedule


def _t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def test_steps_ranges_names_and_macros() -> None:
    every_half_hour = parse_schedule("*/30 * * * *")
    assert every_half_hour.next_after(_t("2026-01-01T10:05:00")) == _t("2026-01-01T10:30:00")
    assert len(every_half_hour.firings(_t("2026-01-01T00:00:00"), _t("2026-01-02T00:00:00"))) == 48
    weekdays = parse_schedule("15 9 * * mon-fri")
    assert weekdays.next_after(_t("2026-01-02T10:00:00")) == _t("2026-01-05T09:15:00")  # Fri → Mon
    assert parse_schedule("@daily").next_after(_t("2026-02-28T01:00:00")) == _t("2026-03-01T00:00:00")
    # day of month OR day of week when both are restricted, as cron does
    either = parse_schedule("0 0 13 * 5")
    assert either.next_after(_t("2026-02-01T00:00:00")) == _t("2026-02-06T00:00:00")
    assert parse_schedule("0 0 30 2 *").next_after(_t("2026-01-01T00:00:00")) is None


def test_firings_are_capped() -> None:
    minutely = parse_schedule("* * * * *")
    assert len(minutely.firings(_t("2026-01-01T00:00:00"), _t("2026-01-05T00:00:00"))) == 101


@pytest.mark.parametrize("bad", ["* * * *", "61 * * * *", "*/0 * * * *", "0 0 * foo *", "@every 5m"])
def test_bad_schedules_name_the_field(bad: str) -> None:
    with pytest.raises(CronError):
        parse_schedule(bad)
