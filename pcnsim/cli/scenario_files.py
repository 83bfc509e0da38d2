"""Commands that build scenario files from public data: pcnsim scenario from-practices."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .common import (
    UserError,
    app,
    err_console,
    examples,
    option,
    user_errors,
)

# --------------------------------------------------------------------------------------------------
# pcnsim scenario from-practices: a scenario for a real PCN from NHS England's open practice data
# --------------------------------------------------------------------------------------------------

EXAMPLE = ("pcnsim scenario from-practices --registered gp-reg-pat-prac-quin-age.csv \\",
           "    --mapping gp-reg-pat-prac-map.csv --pcn U12345 --out my_pcn.yaml")

scenario_app = typer.Typer(help="Build scenario files from public data.", no_args_is_help=True,
                           epilog=examples(*EXAMPLE))
app.add_typer(scenario_app, name="scenario")


@scenario_app.command("from-practices", epilog=examples(
    *EXAMPLE,
    "pcnsim scenario from-practices --registered gp-reg-pat-prac-quin-age.csv \\",
    "    --practices A81001,A81002 --deprivation fingertips-imd.csv --out two.yaml",
))
def scenario_from_practices_command(
    registered: Annotated[Path, typer.Option(help="Patients Registered at a GP Practice, practice level by sex and "
                                             "5-year age band (gp-reg-pat-prac-quin-age.csv).", show_default=False)],
    out: Annotated[Path, option("out", "The scenario YAML file.", show_default=False)],
    mapping: Annotated[Path | None, typer.Option(help="Practice-to-PCN mapping of the same publication "
                                                 "(gp-reg-pat-prac-map.csv); needed for --pcn and --icb.")] = None,
    pcn: Annotated[str | None, typer.Option(help="PCN code (PCN_CODE in the mapping), e.g. U12345.")] = None,
    practices: Annotated[str | None, typer.Option(help="ODS practice codes, comma-separated, e.g. A81001,A81002.")
                         ] = None,
    icb: Annotated[str | None, typer.Option(help="ICB or sub-ICB location code (ICB_CODE or SUB_ICB_LOCATION_CODE "
                                            "in the mapping): one PCN per PCN code in it.")] = None,
    deprivation: Annotated[Path | None, typer.Option(help="Fingertips data export of the practice IMD score "
                                                     "(indicator 93553, area type GPs; England-wide for national "
                                                     "deciles).")] = None,
    workforce: Annotated[Path | None, typer.Option(help="General Practice Workforce practice-level CSV (GP and "
                                                   "nurse FTE per practice).")] = None,
    name: Annotated[str | None, typer.Option(help="Scenario name (default: from the PCN, ICB or practice codes).")
                    ] = None,
    overwrite: Annotated[bool, option("overwrite")] = False,
) -> None:
    """Build a scenario for a real PCN from NHS England's open practice data; each default used for missing
    data is noted on stderr."""
    from ..practice_data import from_practices

    with user_errors():
        chosen = [flag for flag, value in (("--pcn", pcn), ("--practices", practices), ("--icb", icb)) if value]
        if len(chosen) != 1:
            raise UserError(f"give exactly one of --pcn, --practices or --icb (got {', '.join(chosen) or 'none'})")
        if mapping is None and not practices:
            raise UserError(f"{chosen[0]}: needs --mapping (gp-reg-pat-prac-map.csv) to find the practices")
        if out.exists() and not overwrite:
            raise UserError(f"{out}: --out already exists (choose another file, or pass --overwrite)")
        codes = [c for c in practices.split(",") if c.strip()] if practices else None
        built = from_practices(registered, mapping, pcn=pcn, practices=codes, icb=icb, deprivation=deprivation,
                               workforce=workforce, name=name)
        built.write(out, overwrite=overwrite)
    for note in built.notes:
        err_console.print(f"note: {note}", markup=False, highlight=False, soft_wrap=True)
    n_practices = sum(len(p.practices) for p in built.scenario.pcns)
    typer.echo(f"wrote {out}: {built.scenario.name}: {built.scenario.n_patients:,} patients, {n_practices} "
               f"practices, {len(built.scenario.pcns)} PCN(s)")
