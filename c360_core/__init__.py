"""The core every other c360 package stands on: settings, warehouse connections, telemetry switches.

Imports flow one way: the CLI and `orchestration/` wire things together; `ml/`, `quality/`, the
loaders and the simulator may import this package, and this package imports none of them.
Importing it switches every tool's telemetry off first.
"""

from c360_core import telemetry  # noqa: F401
