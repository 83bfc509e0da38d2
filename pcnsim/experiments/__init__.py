"""Experiments built on `pcnsim.run`: paired comparisons (`compare`), parameter sweeps on local processes or
a Dask cluster (`sweep`), calibration to the evidence (`calibrate`), workforce placement and its optimiser
(`workforce`, `optimise`) and patient timelines (`deepdive`); what every experiment folder keeps of how it was
made (`origin`).
"""
