"""Delay detection from facts: each signal, its threshold, closed and unplanned projects."""

from __future__ import annotations

from datetime import date, timedelta

from pmo_gates.rca.detect import DetectionThresholds, assess_schedule

TODAY = date(2026, 11, 2)
RULES = DetectionThresholds(slip_days=14, spi_below=0.85, min_lag_days=5)


def facts(**values):
    base = {
        "planned_start": TODAY - timedelta(days=50),
        "planned_end": TODAY + timedelta(days=50),
        "forecast_end": TODAY + timedelta(days=50),
        "actual_end": None,
        "schedule_slip_days": 0,
        "spi": 1.0,
        "percent_complete_issues": 50.0,
        "throughput_per_day": 0.5,
    }
    return base | values


def test_on_plan_project_is_not_delayed():
    status = assess_schedule(facts(), RULES, TODAY)
    assert not status.delayed and status.slip_days == 0.0 and status.reasons == []
    assert status.throughput_per_week == 3.5 and status.planned_percent == 50.0


def test_forecast_slip_beyond_threshold_is_a_delay_and_at_threshold_is_not():
    assert not assess_schedule(facts(schedule_slip_days=14), RULES, TODAY).delayed
    late = assess_schedule(facts(schedule_slip_days=15, forecast_end=TODAY + timedelta(days=65)), RULES, TODAY)
    assert late.delayed and late.slip_days == 15.0
    assert late.reasons == [
        f"forecast end {TODAY + timedelta(days=65)} is 15 days after the planned end {TODAY + timedelta(days=50)}"
    ]


def test_low_spi_is_a_delay_only_with_enough_lag():
    lagging = assess_schedule(facts(spi=0.8), RULES, TODAY)
    assert lagging.delayed and lagging.slip_days == 10.0  # 50 elapsed days x (1 - 0.8)
    young = facts(spi=0.5, planned_start=TODAY - timedelta(days=8))
    assert not assess_schedule(young, RULES, TODAY).delayed  # 4 days of lag < min_lag_days 5


def test_spi_falls_back_to_percent_complete_without_a_budget():
    status = assess_schedule(facts(spi=None, percent_complete_issues=30.0), RULES, TODAY)
    assert status.spi == 0.6 and status.delayed and status.slip_days == 20.0


def test_finished_project_is_judged_on_its_actual_end():
    on_time = facts(actual_end=TODAY - timedelta(days=3), schedule_slip_days=-3, spi=0.2)
    assert not assess_schedule(on_time, RULES, TODAY).delayed  # low SPI of a finished project is moot
    late = assess_schedule(facts(actual_end=TODAY, schedule_slip_days=30), RULES, TODAY)
    assert late.delayed and late.closed and late.slip_days == 30.0


def test_projects_without_plan_or_not_started_are_not_judged():
    assert not assess_schedule(facts(planned_end=None, schedule_slip_days=None), RULES, TODAY).delayed
    future = facts(planned_start=TODAY + timedelta(days=3), spi=0.0, schedule_slip_days=None)
    assert not assess_schedule(future, RULES, TODAY).delayed


def test_no_throughput_past_the_planned_end_is_a_delay():
    status = assess_schedule(
        facts(
            forecast_end=None,
            schedule_slip_days=20,
            planned_end=TODAY - timedelta(days=20),
            spi=None,
            percent_complete_issues=None,
        ),
        RULES,
        TODAY,
    )
    assert status.delayed and status.reasons[0].startswith("with no recent throughput, today is 20 days")
