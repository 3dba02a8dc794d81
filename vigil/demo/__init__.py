"""The simulated school behind `vigil demo`: a seeded week of synthetic filter, firewall and DNS logs.

Everything in this package is synthetic: invented pupils, staff, rooms, category numbers and traffic.
`generate()` writes the log files and returns a ledger of the safeguarding episodes it planted.
"""

from vigil.demo.generator import DemoResult, generate
from vigil.demo.scenarios import Episode

__all__ = ["DemoResult", "Episode", "generate"]
