"""The dashboard's settings and words without a browser: links round-trip, cautions, error sentences, verdicts."""

from __future__ import annotations

import math

from pcnsim.dashboard import record, settings
from pcnsim.scenario import ScenarioError


def test_a_link_round_trips_the_settings_and_ignores_nonsense():
    files = settings.scenario_files()
    data = settings.scenario_data(files["baseline.yaml"])
    values = settings.control_values(data) | {"levers.complex_care.enabled": True, "levers.complex_care.fte": 4.5}
    s = settings.settings("baseline.yaml", "care_navigation.yaml", values, 3, 7)
    back = settings.from_query(settings.to_query(s, data), files)
    assert back == {"base": "baseline.yaml", "start": "care_navigation.yaml", "years": 3, "reps": 7,
                    "values": {"levers.complex_care.enabled": True, "levers.complex_care.fte": 4.5}}
    junk = settings.from_query("base=../../etc/passwd&years=99&reps=x&levers.complex_care.fte=1e9&nope=1", files)
    assert junk == {"values": {}}


def test_cautions_only_for_levers_that_are_on_and_far_from_usual():
    values = settings.control_values(settings.scenario_data(settings.scenario_files()["baseline.yaml"]))
    assert settings.cautions(values) == []
    big = values | {"levers.complex_care.fte": 20.0}
    assert settings.cautions(big) == []  # the lever is off: its size does nothing
    on = big | {"levers.complex_care.enabled": True}
    assert settings.cautions(on) == ["Complex-care team: team size of 20 FTE per PCN is outside the usual 1 to 8."]


def test_errors_become_one_sentence_without_a_traceback():
    refused = record.plain_error(record.RunRefused("This comparison is too big for this computer."))
    assert refused == "This comparison is too big for this computer."
    bad = record.plain_error(ScenarioError("x.yaml", "levers.fte", "must be at least 0"))
    assert bad.startswith("These settings cannot be simulated") and "\n" not in bad
    odd = record.plain_error(RuntimeError("boom\n  File 'engine.py', line 3"))
    assert "File" not in odd and "\n" not in odd


def test_verdicts_and_own_terms_read_as_sentences():
    assert record.verdict_sentence("ae_per_1000", 460.0, -4.6, -6.0, -3.0).startswith("Better, down 1.0%")
    assert record.verdict_sentence("ae_per_1000", 460.0, 4.6, 3.0, 6.0).startswith("Worse, up 1.0%")
    assert record.verdict_sentence("ae_per_1000", 460.0, 1.0, -1.0, 3.0).startswith("No clear change")
    gp = record.own_terms("gp_per_1000", -52.0, 42_000)
    assert gp.startswith("About 42 GP appointments a week released") and "~10 GP hours" in gp
    assert record.own_terms("cost_per_person", 2.0, 1000) == \
        "About GBP 2,000 a year more on care contacts for 1,000 patients (staff salaries not included)."
    assert record.own_terms("ae_per_1000", math.nan, 1000) is None
