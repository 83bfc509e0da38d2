"""Scenarios from NHS England's open practice data: counts carried over exactly, deprivation mixes, network
staff in proportion to list size, one-line errors on bad files, and a built scenario run end to end.

The files in tests/data are synthetic, in the published layouts (tests/data/README.md)."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pcnsim import params
from pcnsim.practice_data import decile_mix, from_practices, score_deciles
from pcnsim.practice_files import AGE_BANDS, PracticeDataError
from pcnsim.scenario import load
from pcnsim.vocab import ROLES

DATA = Path(__file__).resolve().parent / "data"
REGISTERED = DATA / "gp-reg-pat-prac-quin-age.csv"
MAPPING = DATA / "gp-reg-pat-prac-map.csv"
DEPRIVATION = DATA / "fingertips-gp-imd.csv"
WORKFORCE = DATA / "gp-workforce-practice.csv"


def pcnsim(*args, cwd=None, timeout=900):
    return subprocess.run([sys.executable, "-m", "pcnsim", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def file_counts() -> pd.DataFrame:
    """The registered file read independently of pcnsim: GP rows by practice, sex and band."""
    df = pd.read_csv(REGISTERED, dtype={"NUMBER_OF_PATIENTS": int})
    return df[df["ORG_TYPE"] == "GP"]


def build(**kw):
    kw.setdefault("mapping", MAPPING)
    return from_practices(REGISTERED, **kw)


def practices_of(built) -> dict:
    return {p.name.split("(")[-1].rstrip(")"): p for pcn in built.scenario.pcns for p in pcn.practices}


def test_list_sizes_and_age_sex_bands_equal_the_files_counts():
    built = build(pcn="U00001", deprivation=DEPRIVATION)
    df = file_counts()
    practices = practices_of(built)
    assert set(practices) == set(pd.read_csv(MAPPING).query("PCN_CODE == 'U00001'")["PRACTICE_CODE"])
    for code, p in practices.items():
        mine = df[df["ORG_CODE"] == code]
        total = mine.query("SEX == 'ALL' and AGE_GROUP_5 == 'ALL'")["NUMBER_OF_PATIENTS"].item()
        assert p.list_size == total
        assert sorted(p.age_sex_table) == sorted(AGE_BANDS.values())
        for band, lo in AGE_BANDS.items():
            for s, sex in enumerate(("MALE", "FEMALE")):
                count = mine.query("SEX == @sex and AGE_GROUP_5 == @band")["NUMBER_OF_PATIENTS"].item()
                assert p.age_sex_table[lo][s] == count, (code, band, sex)
    assert built.scenario.n_patients == sum(p.list_size for p in practices.values())


def test_a_total_that_disagrees_with_the_bands_is_noted(tmp_path):
    df = pd.read_csv(REGISTERED, dtype=str, keep_default_na=False)
    whole = (df["ORG_CODE"] == "Y90001") & (df["SEX"] == "ALL") & (df["AGE_GROUP_5"] == "ALL")
    df.loc[whole, "NUMBER_OF_PATIENTS"] = str(int(df.loc[whole, "NUMBER_OF_PATIENTS"].item()) + 7)
    df.to_csv(tmp_path / "r.csv", index=False)
    built = from_practices(tmp_path / "r.csv", MAPPING, pcn="U00001")
    assert practices_of(built)["Y90001"].list_size == practices_of(build(pcn="U00001"))["Y90001"].list_size
    (note,) = [n for n in built.notes if n.startswith("list size:")]
    assert "Y90001" in note and "r.csv" in note
    assert not any(n.startswith("list size:") for n in build(pcn="U00001").notes)


def test_selection_by_pcn_icb_and_practices():
    mapping = pd.read_csv(MAPPING)
    by_icb = build(icb="QXX")
    assert len(by_icb.scenario.pcns) == mapping["PCN_CODE"].nunique()
    assert set(practices_of(by_icb)) == set(mapping["PRACTICE_CODE"])
    by_sub_icb = build(icb="00Y")
    assert set(practices_of(by_sub_icb)) == set(mapping.query("SUB_ICB_LOCATION_CODE == '00Y'")["PRACTICE_CODE"])
    by_codes = from_practices(REGISTERED, practices=["y90001", "Y90007"], name="Two practices")
    assert [p.name for p in by_codes.scenario.pcns[0].practices] == ["Y90001", "Y90007"]
    assert by_codes.scenario.pcns[0].name == "Two practices"


def test_deprivation_mixes_sum_to_one_and_follow_the_score():
    built = build(icb="QXX", deprivation=DEPRIVATION)
    scores = pd.read_csv(DEPRIVATION).query("`Area Type` == 'GPs'").set_index("Area Code")["Value"]
    mean_quintile = {}
    for code, p in practices_of(built).items():
        assert abs(sum(p.deprivation_mix) - 1.0) < 1e-9
        assert all(0 <= x <= 1 for x in p.deprivation_mix)
        if math.isnan(scores[code]):
            assert p.deprivation_mix == [0.2] * 5
            assert any(code in n and "even mix" in n for n in built.notes)
        else:
            mean_quintile[code] = sum((q + 1) * x for q, x in enumerate(p.deprivation_mix))
    ranked = sorted(mean_quintile, key=lambda c: -scores[c])  # most deprived first
    assert [mean_quintile[c] for c in ranked] == sorted(mean_quintile.values())
    assert mean_quintile[ranked[0]] < mean_quintile[ranked[-1]]


def test_deprivation_from_a_whole_profile_export_takes_the_newest_imd(tmp_path):
    one = pd.read_csv(DEPRIVATION, dtype=str, keep_default_na=False)
    older = one.assign(**{"Indicator ID": "91872", "Indicator Name": "Deprivation score (IMD 2015)",
                          "Value": "1.0"})  # would make every practice least deprived
    idaci = one.assign(**{"Indicator ID": "93275", "Indicator Name": "Income Deprivation Affecting Children "
                          "Index (IDACI)", "Value": "0.1"})
    both = tmp_path / "profile.csv"
    pd.concat([older, idaci, one]).to_csv(both, index=False)
    expected = build(pcn="U00001", deprivation=DEPRIVATION)
    got = build(pcn="U00001", deprivation=both)
    assert [p.deprivation_mix for p in got.scenario.pcns[0].practices] == \
        [p.deprivation_mix for p in expected.scenario.pcns[0].practices]
    assert any("IMD 2019" in s for s in got.sources)


def test_a_decile_export_is_used_as_it_is(tmp_path):
    df = pd.read_csv(DEPRIVATION, dtype=str, keep_default_na=False)
    deciles = {"Y90001": 9, "Y90002": 4, "Y90003": 1}
    df["Indicator Name"] = "GP deprivation decile (IMD2019)"
    df["Value"] = [str(deciles.get(code, 5)) for code in df["Area Code"]]
    df.to_csv(tmp_path / "deciles.csv", index=False)
    built = build(pcn="U00001", deprivation=tmp_path / "deciles.csv")
    for code, p in practices_of(built).items():
        assert p.deprivation_mix == decile_mix(deciles[code])
    assert not any("ranked" in n for n in built.notes)


@pytest.mark.parametrize("decile", range(1, 11))
def test_decile_mix(decile):
    mix = decile_mix(decile)
    assert len(mix) == 5 and abs(sum(mix) - 1.0) < 1e-12
    assert max(range(5), key=mix.__getitem__) == math.ceil(decile / 2) - 1


def test_score_deciles_rank_most_deprived_first():
    scores = {f"P{i:02d}": float(i) for i in range(40)}
    deciles = score_deciles(scores)
    assert deciles["P39"] == 1 and deciles["P00"] == 10
    assert sorted(pd.Series(deciles).value_counts()) == [4] * 10


def test_the_builder_is_also_pcnsim_scenario_from_practices():
    import pcnsim.scenario

    built = pcnsim.scenario.from_practices(REGISTERED, MAPPING, pcn="U00001")
    assert built.scenario == build(pcn="U00001").scenario
    assert built.scenario.pcns[0].code == "U00001"
    assert all(p.ods_code and p.name.endswith(f"({p.ods_code})") for p in built.scenario.pcns[0].practices)


def test_network_staff_scale_with_list_size():
    """Built scenarios carry no absolute network staff: each PCN's PCN-funded FTE is the per-1,000 rate x its
    list size, so FTE per patient is the same in a small and a large PCN."""
    small, large = build(pcn="U00001"), build(pcn="U00002")
    assert small.scenario.n_patients < large.scenario.n_patients
    rates = small.scenario.workforce.pcn_fte_per_1000
    for built in (small, large):
        sc = built.scenario
        pcn = sc.pcns[0]
        assert pcn.arrs_fte is None and not sc.workforce.pcn_fte
        funded = sc.pcn_funded_fte(pcn)
        assert set(funded) == set(rates)
        for role, fte in funded.items():
            assert fte == pytest.approx(rates[role] * pcn.list_size / 1000, rel=1e-12)
    ratio = large.scenario.n_patients / small.scenario.n_patients
    lay_small, lay_large = params.layout(small.scenario), params.layout(large.scenario)
    assert lay_large.fte[:, ROLES.index("pharmacist")].sum() / lay_small.fte[:, ROLES.index("pharmacist")].sum() \
        == pytest.approx(ratio, rel=1e-9)


def test_workforce_file_gives_practice_fte_and_notes_the_gaps():
    built = build(pcn="U00001", workforce=WORKFORCE)
    wf = pd.read_csv(WORKFORCE, dtype=str).set_index("PRAC_CODE")
    for code, p in practices_of(built).items():
        assert p.fte["gp"] == pytest.approx(float(wf.loc[code, "TOTAL_GP_EXTGL_FTE"]))
        if wf.loc[code, "TOTAL_NURSES_FTE"] == "ND":
            assert "nurse" not in p.fte
            assert any(code in n and "TOTAL_NURSES_FTE" in n for n in built.notes)
        else:
            assert p.fte["nurse"] == pytest.approx(float(wf.loc[code, "TOTAL_NURSES_FTE"]))
    assert not any("no --workforce" in n for n in built.notes)
    assert any("no --workforce" in n for n in build(pcn="U00001").notes)


def test_written_yaml_loads_back_with_the_same_scenario(tmp_path):
    built = build(pcn="U00002", deprivation=DEPRIVATION, workforce=WORKFORCE)
    path = built.write(tmp_path / "u2.yaml")
    text = path.read_text()
    assert text.startswith("# Built by")
    assert str(REGISTERED) in text and str(DEPRIVATION) in text and "Y90004" in text
    again = load(path)
    assert again.model_dump() == built.scenario.model_dump()
    with pytest.raises(PracticeDataError, match="already exists"):
        built.write(path)


# --------------------------------------------------------------------------------------------------
# Command line: one line, exit 2, nothing written
# --------------------------------------------------------------------------------------------------


def _drop_column(src: Path, column: str, dst: Path) -> Path:
    pd.read_csv(src, dtype=str, keep_default_na=False).drop(columns=[column]).to_csv(dst, index=False)
    return dst


def _set_cell(src: Path, column: str, value: str, dst: Path, row: int = 3) -> Path:
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    df.loc[row, column] = value
    df.to_csv(dst, index=False)
    return dst


BAD = {
    # case: (make the bad file in tmp -> (option, path), other args, words expected in the one line)
    "missing column": (lambda d: ("--registered", _drop_column(REGISTERED, "NUMBER_OF_PATIENTS", d / "r.csv")),
                       ["--pcn", "U00001"], ["r.csv", "NUMBER_OF_PATIENTS", "column missing", "AGE_GROUP_5"]),
    "unknown PCN code": (lambda d: ("--registered", REGISTERED), ["--pcn", "U00042"],
                         [MAPPING.name, "PCN_CODE", "U00042", "U00001"]),
    "non-numeric count": (lambda d: ("--registered",
                                     _set_cell(REGISTERED, "NUMBER_OF_PATIENTS", "12a", d / "r.csv", 4)),
                          ["--pcn", "U00001"], ["r.csv", "NUMBER_OF_PATIENTS", "'12a'", "whole numbers"]),
    "not a CSV file": (lambda d: ("--registered", _binary(d / "r.csv")), ["--pcn", "U00001"],
                       ["r.csv", "not a CSV file"]),
    "unknown practice code": (lambda d: ("--registered", REGISTERED), ["--practices", "Y90001,Y99999"],
                              [MAPPING.name, "PRACTICE_CODE", "Y99999"]),
    "mapping without PCN_CODE": (lambda d: ("--mapping", _drop_column(MAPPING, "PCN_CODE", d / "m.csv")),
                                 ["--pcn", "U00001"], ["m.csv", "PCN_CODE", "column missing"]),
    "deprivation not a number": (lambda d: ("--deprivation", _set_cell(DEPRIVATION, "Value", "high", d / "i.csv")),
                                 ["--pcn", "U00001"], ["i.csv", "Value", "'high'", "IMD score"]),
}


def _binary(path: Path) -> Path:
    path.write_bytes(bytes(range(256)) * 8)
    return path


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_file_is_one_line_exit_2_nothing_written(tmp_path, case):
    make, args, words = BAD[case]
    option, bad = make(tmp_path)
    files = {"--registered": REGISTERED, "--mapping": MAPPING, option: bad}
    out = tmp_path / "out.yaml"
    argv = [a for k, v in files.items() for a in (k, v)] + args + ["--out", out]
    proc = pcnsim("scenario", "from-practices", *argv)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for word in words:
        assert word in lines[0], (word, lines[0])
    assert not out.exists()


def test_cli_refuses_to_overwrite_and_needs_one_selection(tmp_path):
    out = tmp_path / "mine.yaml"
    out.write_text("keep me\n")
    base = ["scenario", "from-practices", "--registered", REGISTERED, "--mapping", MAPPING, "--out", out]
    proc = pcnsim(*base, "--pcn", "U00001")
    assert proc.returncode == 2 and "--overwrite" in proc.stderr and out.read_text() == "keep me\n"
    proc = pcnsim(*base, "--pcn", "U00001", "--icb", "QXX", "--overwrite")
    assert proc.returncode == 2 and "exactly one" in proc.stderr and out.read_text() == "keep me\n"
    proc = pcnsim(*base, "--pcn", "U00001", "--overwrite")
    assert proc.returncode == 0, proc.stderr
    assert load(out).n_patients == build(pcn="U00001").scenario.n_patients


@pytest.mark.slow
def test_built_scenario_runs_end_to_end_and_reports(tmp_path):
    scen = tmp_path / "small.yaml"
    proc = pcnsim("scenario", "from-practices", "--registered", REGISTERED, "--mapping", MAPPING, "--pcn", "U00001",
                  "--deprivation", DEPRIVATION, "--workforce", WORKFORCE, "--out", scen)
    assert proc.returncode == 0, proc.stderr
    notes = [line for line in proc.stderr.splitlines() if line.startswith("note: ")]
    assert notes and len(notes) == len(proc.stderr.strip().splitlines())
    assert "wrote" in proc.stdout
    out = tmp_path / "results"
    run = pcnsim("run", scen, "--years", "1", "--out", out)
    assert run.returncode == 0, run.stderr
    built = load(scen)
    names = [p.name for p in built.pcns[0].practices]
    assert json.loads((out / "manifest.json").read_text())["practices"] == names
    assert len(pd.read_parquet(out / "summary.parquet")) > 0
    people = pd.read_parquet(out / "patients_yearly.parquet", columns=["practice", "ods_code", "pcn_code",
                                                                       "deprivation"])
    assert set(people["practice"]) == set(names)
    codes = {p.name: p.ods_code for p in built.pcns[0].practices}
    mapping = pd.read_csv(MAPPING)
    assert set(codes.values()) == set(mapping.loc[mapping["PCN_CODE"] == "U00001", "PRACTICE_CODE"])
    assert (people["ods_code"].astype(str) == people["practice"].astype(str).map(codes)).all()
    assert set(people["pcn_code"]) == {"U00001"}
    for p in built.pcns[0].practices:  # nobody lives in a quintile the practice's mix leaves empty
        seen = set(people.loc[people["practice"] == p.name, "deprivation"])
        assert seen <= {q + 1 for q, share in enumerate(p.deprivation_mix) if share > 0}, (p.name, seen)
    report = pcnsim("report", out)
    assert report.returncode == 0, report.stderr
    page = (out / "report" / "index.html").read_text()
    assert all(f'<td class="text">{code}</td>' in page for code in codes.values())  # each practice's ODS code
    assert '<td class="text">U00001</td>' in page and "7 Apr 2025 to 5 Apr 2026" in page
