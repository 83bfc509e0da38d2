"""The Solara dashboard: choose what to compare, move the levers, run a paired comparison, read and download.

Served by `pcnsim dashboard` (`solara run pcnsim.dashboard.page`: a module, not the package, which Solara would
route page by page; production mode). One module one job:
`settings` (the controls and the scenario they build), `record` (a run kept with what produced it, and its
words), `figures` (the charts), `page` (the components). Every control is bounded by the scenario schema, so
whatever the page builds validates as a scenario file. Front-end assets come from `solara-assets` (no CDN).
"""

from .page import Page
from .settings import DELIVERY, LEVER_SIZES, LEVER_SWITCHES, LEVERS, WORKFORCE, build, scenario_files, scenario_yaml

__all__ = ["DELIVERY", "LEVERS", "LEVER_SIZES", "LEVER_SWITCHES", "WORKFORCE", "Page", "build", "scenario_files",
           "scenario_yaml"]
