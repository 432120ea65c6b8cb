"""`make demo`: the July 2020 OCSP-EKU incident replayed offline (the Airflow side is
`ctwatch_airflow.demo`). This package holds what needs no Airflow: the scenario, the evaluation
settings, the simulator's sources file and the summary printed at the end.
"""

from ctwatch.demo.setup import (
    EVALUATION_CONFIG_FILE,
    SCENARIO_FILE,
    disclosed_keys,
    write_demo_config,
)
from ctwatch.demo.summary import (
    OwnerSummary,
    alert_counts,
    format_alert_counts,
    format_table,
    plan_lines,
    summarize,
)

__all__ = [
    "EVALUATION_CONFIG_FILE",
    "SCENARIO_FILE",
    "OwnerSummary",
    "alert_counts",
    "disclosed_keys",
    "format_alert_counts",
    "format_table",
    "plan_lines",
    "summarize",
    "write_demo_config",
]
