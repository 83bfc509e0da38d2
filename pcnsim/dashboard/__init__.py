"""The Solara dashboard: choose what to compare, move the levers, run a paired comparison, read and download.

Served by `pcnsim dashboard` (`solara run pcnsim.dashboard`, production mode); `routes` names the one page, as
Solara would otherwise offer each module of the package as a page of its own. One module one job:
`settings` (the controls and the scenario they build), `record` (a run kept with what produced it, and its
words), `figures` (the charts), `page` (the components). Every control is bounded by the scenario schema, so
whatever the page builds validates as a scenario file. Front-end assets come from `solara-assets` (no CDN).
"""

import solara

from .page import Page
from .settings import DELIVERY, LEVER_SIZES, LEVER_SWITCHES, LEVERS, WORKFORCE, build, scenario_files, scenario_yaml

routes = [solara.Route(path="/", component=Page, label="pcnsim")]

__all__ = ["DELIVERY", "LEVERS", "LEVER_SIZES", "LEVER_SWITCHES", "WORKFORCE", "Page", "build", "routes",
           "scenario_files", "scenario_yaml"]
