"""The metric registry covers every metric pcnsim outputs, and writes values, changes and verdicts right."""

import math

import pytest

from pcnsim import registry
from pcnsim.experiments.compare import KEY_METRICS, replicate_metric_names
from pcnsim.metrics import HEADLINE, METRIC_NAMES
from pcnsim.results import WEEKLY_METRICS


def test_every_summary_and_comparison_metric_has_an_entry_with_words():
    for key in {*METRIC_NAMES, *replicate_metric_names(), *KEY_METRICS, *HEADLINE}:
        metric = registry.get(key)
        assert metric.label and metric.unit and metric.how and metric.better in ("", "lower", "higher")
        assert key not in metric.label  # a plain name, not the code name


def test_every_weekly_series_has_words():
    for key in WEEKLY_METRICS:
        assert registry.label(key).endswith(" a week") and "_" not in registry.label(key)


def test_an_unknown_metric_is_named_in_the_error():
    with pytest.raises(KeyError, match="no_such_metric"):
        registry.get("no_such_metric")


def test_values_and_changes_are_written_for_people():
    ae, revisit = registry.get("ae_per_1000"), registry.get("revisit_rate")
    assert ae.format(1234.56) == "1,234.6" and ae.format_change(-3.21) == "-3.2" and ae.format(math.nan) == "n/a"
    assert revisit.format(0.4671) == "46.7%" and revisit.format_change(-0.012) == "-1.2 pp"
    assert registry.percent_change(-5.0, 200.0) == -2.5 and math.isnan(registry.percent_change(1.0, 0.0))
    assert registry.per_week(52_000 / 42_000 * 1000, 42_000) == pytest.approx(1000.0)


@pytest.mark.parametrize(("key", "low", "high", "verdict"), [
    ("ae_per_1000", -5.0, -1.0, "better"),  # fewer A&E attendances, the whole interval below 0
    ("ae_per_1000", 1.0, 5.0, "worse"),
    ("ae_per_1000", -1.0, 2.0, "no clear change"),  # the interval spans 0
    ("person_years", 10.0, 20.0, "no clear change"),  # neither direction is better
])
def test_verdicts_follow_the_better_direction_and_the_interval(key, low, high, verdict):
    assert registry.get(key).verdict(low, high) == verdict
