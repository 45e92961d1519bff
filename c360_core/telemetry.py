"""Switch off every tool's telemetry. These machines have no internet, and a
phone-home call that hangs is a bug, so this runs before any tool is imported."""

import os

for _name, _value in {
    "DO_NOT_TRACK": "1",
    "DBT_SEND_ANONYMOUS_USAGE_STATS": "False",
    "SODA_CORE_TELEMETRY_ENABLED": "false",
    "DAGSTER_DISABLE_TELEMETRY": "1",
    "MLFLOW_ENABLE_TELEMETRY": "false",
    "MF_SEND_ANONYMOUS_USAGE_STATS": "False",
}.items():
    os.environ.setdefault(_name, _value)
