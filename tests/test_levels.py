"""Levels from lifetime points, with thresholds and names from the LEVELS setting."""

from __future__ import annotations

from pointsapp.levels import level_for

LEVELS = [(0, "Bronze"), (500, "Silver"), (1500, "Gold")]


def test_a_level_is_the_highest_threshold_reached_with_progress_to_the_next():
    start = level_for(0, LEVELS)
    assert (start.name, start.next_name, start.to_next, start.percent) == ("Bronze", "Silver", 500, 0)
    middle = level_for(1000, LEVELS)
    assert (middle.name, middle.next_name, middle.to_next, middle.percent) == ("Silver", "Gold", 500, 50)
    exact = level_for(1500, LEVELS)
    assert (exact.name, exact.next_floor, exact.to_next, exact.percent) == ("Gold", None, 0, 100)


def test_points_owed_after_a_clawback_stay_at_the_first_level():
    owed = level_for(-40, LEVELS)
    assert owed.name == "Bronze" and owed.percent == 0 and owed.to_next == 540


def test_levels_come_from_the_setting_in_any_order(app):
    app.config["LEVELS"], saved = [(100, "Rookie"), (0, "Trainee")], app.config["LEVELS"]
    try:
        level = level_for(120)
        assert (level.name, level.label, level.next_name) == ("Rookie", "Rookie", None)
        assert level_for(99).label == "Trainee"
    finally:
        app.config["LEVELS"] = saved


def test_default_level_names_are_translatable(app):
    from flask_babel import force_locale

    with app.test_request_context(), force_locale("en"):
        assert level_for(600).label == "Silver"
