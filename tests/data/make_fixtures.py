"""Write the SYNTHETIC practice-data fixtures of this folder (see README.md): made-up practices, codes and
numbers in the published column layouts. Run from the repository root: python3 tests/data/make_fixtures.py"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from pcnsim.practice_files import AGE_BANDS
from pcnsim.scenario import Population

HERE = Path(__file__).resolve().parent
EXTRACT_DATE = "2026-10-01"
# code, name, list size, PCN code, PCN name, sub-ICB code, ONS sub-ICB code, IMD score (None: no value)
PRACTICES = [
    ("Y90001", "SYNTHETIC SURGERY A", 1800, "U00001", "SYNTHETIC SMALL PCN", "00X", "E38000901", 41.2),
    ("Y90002", "SYNTHETIC SURGERY B", 2300, "U00001", "SYNTHETIC SMALL PCN", "00X", "E38000901", 27.5),
    ("Y90003", "SYNTHETIC SURGERY C", 1400, "U00001", "SYNTHETIC SMALL PCN", "00X", "E38000901", 12.9),
    ("Y90004", "SYNTHETIC MEDICAL CENTRE D", 6200, "U00002", "SYNTHETIC LARGE PCN", "00X", "E38000901", 33.0),
    ("Y90005", "SYNTHETIC HEALTH CENTRE E", 4800, "U00002", "SYNTHETIC LARGE PCN", "00X", "E38000901", 8.1),
    ("Y90006", "SYNTHETIC SURGERY F", 3900, "U00002", "SYNTHETIC LARGE PCN", "00X", "E38000901", None),
    ("Y90007", "SYNTHETIC PRACTICE G", 7500, "U00003", "SYNTHETIC OTHER PCN", "00Y", "E38000902", 19.4),
]
# Practices only in the deprivation export, so that scores rank into deciles among 20 practices.
OTHER_SCORES = [5.2, 6.8, 9.9, 11.0, 14.6, 16.3, 18.0, 21.7, 24.9, 30.1, 36.4, 45.8, 52.3]


def write(name: str, header: list[str], rows: list[list]) -> None:
    with open(HERE / name, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(header)
        w.writerows(rows)


def main() -> None:
    rng = np.random.default_rng(39)
    pyramid = Population().age_sex_pyramid
    shares = np.array([pyramid[lo] for lo in AGE_BANDS.values() if lo in pyramid] + [(0.6, 1.3)])
    shares = shares / shares.sum()
    rows = []
    for code, _, size, _, _, _, ons, _ in PRACTICES:
        counts = rng.poisson(shares * size)
        base = ["GP_PRAC_PAT_LIST", EXTRACT_DATE, "GP", code, ons, "ZZ99 9ZZ"]
        rows.append([*base, "ALL", "ALL", int(counts.sum())])
        for s, sex in enumerate(("MALE", "FEMALE")):
            rows.append([*base, sex, "ALL", int(counts[:, s].sum())])
        for b, band in enumerate(AGE_BANDS):
            rows.append([*base, "ALL", band, int(counts[b].sum())])
            for s, sex in enumerate(("MALE", "FEMALE")):
                rows.append([*base, sex, band, int(counts[b, s])])
    write("gp-reg-pat-prac-quin-age.csv", ["PUBLICATION", "EXTRACT_DATE", "ORG_TYPE", "ORG_CODE", "ONS_CODE",
                                          "POSTCODE", "SEX", "AGE_GROUP_5", "NUMBER_OF_PATIENTS"], rows)

    write("gp-reg-pat-prac-map.csv",
          ["PUBLICATION", "EXTRACT_DATE", "PRACTICE_CODE", "PRACTICE_NAME", "PRACTICE_POSTCODE", "PCN_CODE",
           "PCN_NAME", "ONS_SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_CODE", "SUB_ICB_LOCATION_NAME",
           "ONS_ICB_CODE", "ICB_CODE", "ICB_NAME", "ONS_COMM_REGION_CODE", "COMM_REGION_CODE", "COMM_REGION_NAME",
           "SUPPLIER_NAME"],
          [["GP_PRAC_PAT_LIST", EXTRACT_DATE, code, name, "ZZ99 9ZZ", pcn, pcn_name, ons, sub,
            f"NHS SYNTHETIC ICB - {sub}", "E54000901", "QXX", "NHS SYNTHETIC INTEGRATED CARE BOARD", "E40000901",
            "Y99", "SYNTHETIC REGION", "SYNTHETIC SUPPLIER"]
           for code, name, _, pcn, pcn_name, sub, ons, _ in PRACTICES])

    header = ["Indicator ID", "Indicator Name", "Parent Code", "Parent Name", "Area Code", "Area Name", "Area Type",
              "Sex", "Age", "Category Type", "Category", "Time period", "Value", "Lower CI 95.0 limit",
              "Upper CI 95.0 limit", "Lower CI 99.8 limit", "Upper CI 99.8 limit", "Count", "Denominator",
              "Value note", "Recent Trend", "Compared to England value or percentiles",
              "Compared to PCNs value or percentiles", "Time period Sortable", "New data", "Compared to goal"]
    ind = [93553, "Deprivation score (IMD 2019)"]
    tail = ["", "", "", "", "", "", "", "", "Not compared", "Not compared", "20190000", "", ""]
    rows = [[*ind, "", "", "E92000001", "England", "England", "Persons", "All ages", "", "", "2019", "21.7", *tail]]
    for code, name, _, pcn, pcn_name, _, _, score in PRACTICES:
        value = "" if score is None else f"{score:.1f}"
        rows.append([*ind, pcn, pcn_name, code, name, "GPs", "Persons", "All ages", "", "", "2019", value, *tail])
    for i, score in enumerate(OTHER_SCORES):
        rows.append([*ind, "U00009", "SYNTHETIC NEIGHBOUR PCN", f"Y9{i + 101:04d}", f"SYNTHETIC PRACTICE {i + 1}",
                     "GPs", "Persons", "All ages", "", "", "2019", f"{score:.1f}", *tail])
    write("fingertips-gp-imd.csv", header, rows)

    rows = []
    for code, name, size, _, _, sub, _, _ in PRACTICES:
        gp = round(size / 1000 * rng.uniform(0.35, 0.6), 2)
        nurse = "ND" if code == "Y90002" else round(size / 1000 * rng.uniform(0.2, 0.35), 2)
        rows.append([code, name, sub, "QXX", size, round(gp * 1.15, 2), gp, nurse, round(size / 1000 * 0.3, 2),
                     round(size / 1000 * 1.1, 2)])
    write("gp-workforce-practice.csv", ["PRAC_CODE", "PRAC_NAME", "SUB_ICB_CODE", "ICB_CODE", "TOTAL_PATIENTS",
                                        "TOTAL_GP_FTE", "TOTAL_GP_EXTGL_FTE", "TOTAL_NURSES_FTE", "TOTAL_DPC_FTE",
                                        "TOTAL_ADMIN_FTE"], rows)


if __name__ == "__main__":
    main()
