"""Provider-shaped writers for :mod:`healthgeo.demo` (one function per real provider format).

Each writer takes the synthetic :class:`~healthgeo._demo_city.City`, derived fields and a target
path, and writes atomically through :func:`healthgeo.io.atomic_write`. No writer embeds the
time of generation, so a seed gives byte-identical files (GeoPackages: see :func:`_fixed_gpkg_date`).
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import math
import uuid
import zipfile
from pathlib import Path

import numpy as np
import shapely

from ._demo_city import City
from .io import atomic_write

YEAR_KWB = 2023
FIXED_DATE = "2023-01-01T00:00:00.000Z"


def round5(v: float) -> int:
    """CBS-style rounding of a count to a multiple of 5."""
    return int(5 * math.floor(v / 5 + 0.5))


def _uuid(rng) -> str:
    return str(uuid.UUID(bytes=rng.bytes(16), version=4))


def _pct(share: float) -> int:
    return int(round(100 * share))


# --------------------------------------------------------------------------------------------
# 1. PDOK WFS GeoJSON (camelCase, EPSG:28992 declared, ogr2ogr-style layout)
def _multipolygon_coords(geom) -> list:
    polys = list(geom.geoms) if geom.geom_type == "MultiPolygon" else [geom]
    out = []
    for p in polys:
        rings = [p.exterior, *p.interiors]
        out.append([[[x, y] for x, y in r.coords] for r in rings])
    return out


def _write_geojson(features: list[tuple[dict, object]], path: Path) -> None:
    lines = ['{', '"type": "FeatureCollection",',
             '"crs": { "type": "name", "properties": { "name": "urn:ogc:def:crs:EPSG::28992" } },',
             '"features": [']
    feats = []
    for props, geom in features:
        g = {"type": "MultiPolygon", "coordinates": _multipolygon_coords(geom)}
        feats.append('{ "type": "Feature", "properties": ' + json.dumps(props, ensure_ascii=False)
                     + ', "geometry": ' + json.dumps(g) + ' }')
    lines.append(",\n".join(feats))
    lines += [']', '}']
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _pdok_stats(rng, res: int, shares, men: float, hh: int, hh_size: float, area_m2: float,
                water_m2: float, addresses: int, exact: bool) -> dict:
    """The PDOK key-figure block shared by gemeente, wijk and buurt features (2022 figures)."""
    secret = -99997
    cnt = (lambda v: int(round(v))) if exact else round5
    land_ha = (area_m2 - water_m2) / 1e4
    has = res >= 10
    pct = (lambda s: _pct(s)) if has else (lambda s: secret)
    oad = int(round(addresses / max(area_m2 / 1e6, 0.01)))
    ste = 1 if oad >= 2500 else 2 if oad >= 1500 else 3 if oad >= 1000 else 4 if oad >= 500 else 5
    one_p = float(np.clip(0.75 - 0.2 * (hh_size - 1.4), 0.15, 0.8))
    kids = float(np.clip(0.12 + 0.25 * (hh_size - 1.4), 0.05, 0.5))
    west, nonwest = rng.uniform(0.08, 0.16), rng.uniform(0.08, 0.35)
    return {
        "water": "NEE",
        "omgevingsadressendichtheid": oad,
        "stedelijkheidAdressenPerKm2": ste,
        "bevolkingsdichtheidInwonersPerKm2": int(round(res / max(land_ha / 100, 1e-6))) if has else secret,
        "aantalInwoners": int(res) if exact else round5(res),
        "mannen": cnt(res * men),
        "vrouwen": cnt(res * (1 - men)),
        "percentagePersonen0Tot15Jaar": pct(shares[0]),
        "percentagePersonen15Tot25Jaar": pct(shares[1]),
        "percentagePersonen25Tot45Jaar": pct(shares[2]),
        "percentagePersonen45Tot65Jaar": pct(shares[3]),
        "percentagePersonen65JaarEnOuder": pct(shares[4]),
        "percentageOngehuwd": pct(0.62 + 0.1 * shares[2]),
        "percentageGehuwd": pct(0.28 - 0.05 * shares[2]),
        "percentageGescheid": pct(0.06),
        "percentageVerweduwd": pct(0.04 * shares[4] / 0.15),
        "aantalHuishoudens": cnt(hh),
        "percentageEenpersoonshuishoudens": pct(one_p),
        "percentageHuishoudensZonderKinderen": pct(1 - one_p - kids),
        "percentageHuishoudensMetKinderen": pct(kids),
        "gemiddeldeHuishoudsgrootte": round(hh_size, 1) if has else secret,
        "percentageWesterseMigratieachtergrond": pct(west),
        "percentageNietWesterseMigratieachtergrond": pct(nonwest),
        "percentageUitMarokko": pct(nonwest * 0.35),
        "percentageUitNederlandseAntillenEnAruba": pct(nonwest * 0.05),
        "percentageUitSuriname": pct(nonwest * 0.1),
        "percentageUitTurkije": pct(nonwest * 0.15),
        "percentageOverigeNietwestersemigratieachtergrond": pct(nonwest * 0.35),
        "oppervlakteTotaalInHa": int(round(area_m2 / 1e4)),
        "oppervlakteLandInHa": int(round(land_ha)),
        "oppervlakteWaterInHa": int(round(area_m2 / 1e4)) - int(round(land_ha)),
    }


def write_pdok(rng, city: City, agg: dict, gm: str, name: str, paths: dict[str, Path]) -> None:
    write_pdok_features(pdok_features(rng, city, agg, gm, name), paths)


def write_pdok_features(feats: dict[str, list], paths: dict[str, Path]) -> None:
    """Write the ``buurten``/``wijken``/``gemeente`` feature lists (e.g. of many municipalities)."""
    for key in ("buurten", "wijken", "gemeente"):
        _write_geojson(feats[key], paths[key])


def pdok_features(rng, city: City, agg: dict, gm: str, name: str) -> dict[str, list]:
    """The PDOK features of one municipality: input name -> [(properties, geometry)]."""
    out = {}
    feats = []
    for b in city.buurten:
        props = {"id": f"buurten.{_uuid(rng)}", "buurtcode": b["code"], "buurtnaam": b["name"],
                 "wijkcode": b["wijkcode"], "gemeentecode": gm, "gemeentenaam": name,
                 "indelingswijzigingWijkenEnBuurten": 1, "meestVoorkomendePostcode": b["postcode"],
                 "dekkingspercentage": 1 if b["residents"] else -99997}
        props.update(_pdok_stats(rng, b["residents_2022"], b["age_shares"], b["men_share"],
                                 b["residents_2022"] / b["hh_size"], b["hh_size"], b["area_m2"], b["water_m2"],
                                 b["n_vbo"], exact=False))
        props.update({"jrstatcode": f"2022{b['code']}", "jaar": 2022})
        feats.append((props, b["geometry"]))
    out["buurten"] = feats
    feats = []
    for w in city.wijken:
        a = agg[w["code"]]
        props = {"id": f"wijken.{_uuid(rng)}", "wijkcode": w["code"], "wijknaam": w["name"], "gemeentecode": gm,
                 "gemeentenaam": name, "indelingswijzigingWijkenEnBuurten": 1}
        props.update(_pdok_stats(rng, a["residents_2022"], a["age_shares"], a["men_share"], a["households"] * 0.99,
                                 a["hh_size"], a["area_m2"], a["water_m2"], a["n_vbo"], exact=False))
        props.update({"jrstatcode": f"2022{w['code']}", "jaar": 2022})
        feats.append((props, w["geometry"]))
    out["wijken"] = feats
    a = agg[gm]
    props = {"id": f"gemeenten.{_uuid(rng)}", "gemeentecode": gm, "gemeentenaam": name}
    props.update(_pdok_stats(rng, a["residents_2022"], a["age_shares"], a["men_share"], a["households"] * 0.99,
                             a["hh_size"], a["area_m2"], a["water_m2"], a["n_vbo"], exact=True))
    props.update({"jrstatcode": f"2022{gm}", "jaar": 2022})
    out["gemeente"] = [(props, shapely.MultiPolygon([city.outline]))]
    return out


def write_boundaries(buurten: list[dict], gm: str, name: str, year: int, path: Path) -> None:
    """The buurten of an earlier year (healthgeo.demo.boundary_history) as a PDOK-shaped GeoJSON."""
    feats = [({"buurtcode": b["code"], "buurtnaam": b["name"], "wijkcode": b["wijkcode"], "gemeentecode": gm,
               "gemeentenaam": name, "aantalInwoners": int(b["residents"]), "jrstatcode": f"{year}{b['code']}",
               "jaar": year}, b["geometry"]) for b in buurten]
    _write_geojson(feats, path)


# --------------------------------------------------------------------------------------------
# 2. CBS KWB xlsx
KWB_COLUMNS = (
    "gwb_code_10 gwb_code_8 regio gm_naam recs gwb_code ind_wbi a_inw a_man a_vrouw a_00_14 a_15_24 "
    "a_25_44 a_45_64 a_65_oo a_ongeh a_gehuwd a_gesch a_verwed a_nl_all a_eur_al a_neu_al a_geb_nl "
    "a_geb_eu a_geb_ne a_gbl_eu a_gbl_ne a_geb p_geb a_ste p_ste a_hh a_1p_hh a_hh_z_k a_hh_m_k g_hhgro "
    "bev_dich a_woning g_wozbag p_1gezw p_mgezw p_bewndw p_leegsw p_koopw p_huurw p_wcorpw p_ov_hw p_e_o_w "
    "p_bjj2k p_bjo2k g_ele g_ele_ap g_ele_tw g_ele_hw g_ele_2w g_ele_vw g_ele_hu g_ele_ko g_gas g_gas_ap "
    "g_gas_tw g_gas_hw g_gas_2w g_gas_vw g_gas_hu g_gas_ko p_stadsv a_opl_lg a_opl_md a_opl_hg p_arb_pp "
    "p_arb_wn p_arb_zs a_inkont g_ink_po g_ink_pi p_ink_li p_ink_hi g_hh_sti p_hh_li p_hh_hi p_hh_lkk "
    "p_hh_osm p_hh_110 p_hh_120 m_hh_ver a_soz_wb a_soz_ao a_soz_ww a_soz_ow a_jz_tn p_jz_tn a_wmo_t "
    "p_wmo_t a_bedv a_bed_a a_bed_bf a_bed_gi a_bed_hj a_bed_kl a_bed_mn a_bed_oq a_bed_ru a_pau a_bst_b "
    "a_bst_nb g_pau_hh g_pau_km a_m2w g_afs_hp g_afs_gs g_afs_kv g_afs_sc g_3km_sc a_opp_ha a_lan_ha "
    "a_wat_ha pst_mvp pst_dekp ste_mvs ste_oad"
).split()
# columns CBS ships as text even when they hold numbers (checked on the real 2023 download)
_KWB_TEXT_NUMBERS = {"a_nl_all", "a_eur_al", "a_neu_al", "a_soz_wb", "a_soz_ao", "a_soz_ww", "a_soz_ow", "a_bedv"}


def _kwb_row(rng, code: str, level: str, regio: str, gm_name: str, s: dict, exact_total: bool) -> list:
    """One KWB row; ``s`` holds true values (residents, shares, households, ...)."""
    res = s["residents"]
    cnt = (lambda v: int(round(v))) if exact_total else round5
    has = res >= 10
    dot = "."
    v: dict[str, object] = {c: dot for c in KWB_COLUMNS}
    v.update({
        "gwb_code_10": code, "gwb_code_8": code[2:], "regio": regio, "gm_naam": gm_name, "recs": level,
        "gwb_code": code, "ind_wbi": 1, "a_inw": cnt(res), "a_man": cnt(res * s["men_share"]),
        "a_vrouw": cnt(res * (1 - s["men_share"])),
    })
    for col, sh in zip(("a_00_14", "a_15_24", "a_25_44", "a_45_64", "a_65_oo"), s["age_shares"]):
        v[col] = cnt(res * sh)
    for col, sh in zip(("a_ongeh", "a_gehuwd", "a_gesch", "a_verwed"), (0.63, 0.27, 0.06, 0.04)):
        v[col] = cnt(res * sh)
    v["a_nl_all"] = str(cnt(res * 0.62))
    v["a_eur_al"] = str(cnt(res * 0.11))
    v["a_neu_al"] = str(cnt(res * 0.27))
    hh = s["households"]
    v["a_hh"] = cnt(hh)
    v["a_1p_hh"] = cnt(hh * float(np.clip(0.75 - 0.2 * (s["hh_size"] - 1.4), 0.15, 0.8)))
    kids = float(np.clip(0.12 + 0.25 * (s["hh_size"] - 1.4), 0.05, 0.5))
    v["a_hh_m_k"] = cnt(hh * kids)
    v["a_hh_z_k"] = max(v["a_hh"] - v["a_1p_hh"] - v["a_hh_m_k"], 0)
    if has:
        g = round(s["hh_size"], 1)
        v["g_hhgro"] = int(g) if g == int(g) else g  # CBS writes 2 rather than 2.0
        v["bev_dich"] = int(round(res / max(s["land_m2"] / 1e6, 1e-6)))
    v["a_woning"] = int(s["n_dwellings"])
    if s["n_dwellings"] >= 10:
        pov = s["poverty"]
        v["g_wozbag"] = int(round(480 - 170 * pov + rng.normal(0, 20)))
        eg = int(np.clip(round(30 + 40 * s["r_rel"] - 20 * pov), 0, 100))
        v["p_1gezw"], v["p_mgezw"] = eg, 100 - eg
        v["p_bewndw"], v["p_leegsw"] = 96, 4
        koop = int(np.clip(round(62 - 40 * pov + rng.normal(0, 5)), 0, 100))
        corp = int(np.clip(round(15 + 45 * pov + rng.normal(0, 4)), 0, 100 - koop))
        v["p_koopw"], v["p_huurw"], v["p_wcorpw"] = koop, 100 - koop, corp
        v["p_ov_hw"], v["p_e_o_w"] = 100 - koop - corp, 0
        v["p_bjj2k"] = int(np.clip(round(100 * s["share_pre2000"]), 0, 100))
        v["p_bjo2k"] = 100 - v["p_bjj2k"]
    if not s["income_missing"]:
        v["g_ink_pi"] = round(s["income"], 1)
        v["g_ink_po"] = round(s["income"] * 1.45, 1)
        v["p_hh_li"] = round(s["low_income_hh_pct"], 1)
        v["p_ink_li"] = round(min(s["low_income_hh_pct"] * 1.9 + 15, 80), 1)
        v["p_ink_hi"] = round(max(35 - s["low_income_hh_pct"], 2), 1)
    if res > 0:
        v["a_soz_wb"] = str(round5(res * 0.02 * (1 + 3 * s["poverty"])))
        # AO and WW rise with poverty too (no random draws: the other KWB values stay as they were)
        v["a_soz_ao"] = str(round5(res * 0.03 * (1 + s["poverty"])))
        v["a_soz_ww"] = str(round5(res * 0.007 * (1 + 1.5 * s["poverty"])))
        v["a_soz_ow"] = str(round5(res * s["age_shares"][4] * 0.95))
    if has:  # net labour participation (% of residents 15-74 in work) = employees + self-employed
        part = float(np.clip(74 - 22 * s["poverty"] + 4 * s["r_rel"], 40, 85))
        v["p_arb_pp"] = round(part)
        v["p_arb_zs"] = round(part * 0.14)
        v["p_arb_wn"] = v["p_arb_pp"] - v["p_arb_zs"]
    v["a_bedv"] = str(round5(s["n_other"] * 1.5))
    v["a_pau"] = cnt(hh * (0.55 + 0.3 * s["r_rel"]))
    v["a_opp_ha"] = int(round(s["area_m2"] / 1e4))
    v["a_lan_ha"] = int(round(s["land_m2"] / 1e4))
    v["a_wat_ha"] = v["a_opp_ha"] - v["a_lan_ha"]
    for col in ("g_afs_hp", "g_afs_gs", "g_afs_sc"):
        if s.get(col) is not None and res > 0:
            v[col] = round(s[col], 1)
    if level == "Buurt":
        v["pst_mvp"] = s["postcode"]
        v["pst_dekp"] = 1
    oad = int(round(s["n_vbo"] / max(s["area_m2"] / 1e6, 0.01)))
    v["ste_oad"] = oad
    v["ste_mvs"] = 1 if oad >= 2500 else 2 if oad >= 1500 else 3 if oad >= 1000 else 4 if oad >= 500 else 5
    return [v[c] for c in KWB_COLUMNS]


def write_xlsx_deterministic(rows: list[list], sheet: str, path: Path) -> None:
    """Write an xlsx with openpyxl, then re-zip it with fixed timestamps and document dates."""
    import datetime as dt

    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    for r in rows:
        ws.append(r)
    for c in ws[1]:
        c.font = openpyxl.styles.Font(bold=True)
    fixed = dt.datetime(2023, 1, 1)
    wb.properties.creator = "healthgeo.demo (SYNTHETIC)"
    wb.properties.created = fixed
    wb.properties.modified = fixed
    buf = io.BytesIO()
    wb.save(buf)
    zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in sorted(zin.infolist(), key=lambda i: i.filename):
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":  # openpyxl stamps 'modified' with now()
                import re

                data = re.sub(rb"<dcterms:modified([^>]*)>[^<]*</dcterms:modified>",
                              rb"<dcterms:modified\1>2023-01-01T00:00:00Z</dcterms:modified>", data)
            zi = zipfile.ZipInfo(info.filename, date_time=(2023, 1, 1, 0, 0, 0))
            zi.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(zi, data)
    with atomic_write(path) as tmp:
        tmp.write_bytes(out.getvalue())


def kwb_rows(rng, city: City, agg: dict, gm: str, name: str) -> list[list]:
    """The KWB rows of one municipality (gemeente, then each wijk followed by its buurten)."""
    rows = [_kwb_row(rng, gm, "Gemeente", name, name, agg[gm], exact_total=True)]
    for w in city.wijken:
        rows.append(_kwb_row(rng, w["code"], "Wijk", w["name"], name, agg[w["code"]], exact_total=False))
        for b in city.buurten:
            if b["wijkcode"] == w["code"]:
                rows.append(_kwb_row(rng, b["code"], "Buurt", b["name"], name, agg[b["code"]], exact_total=False))
    return rows


def write_kwb(rng, city: City, agg: dict, gm: str, name: str, path: Path) -> None:
    write_kwb_rows(kwb_rows(rng, city, agg, gm, name), path)


def write_kwb_rows(rows: list[list], path: Path) -> None:
    """The KWB workbook (sheet ``kwb-2023``): header plus ``rows`` (of one or many municipalities)."""
    write_xlsx_deterministic([list(KWB_COLUMNS), *rows], f"kwb-{YEAR_KWB}", path)


# --------------------------------------------------------------------------------------------
# 3. RIVM/CBS "Gezondheid per wijk en buurt" CSV
HEALTH_COLUMNS = (
    "ID Leeftijd Marges WijkenEnBuurten Perioden Gemeentenaam_1 SoortRegio_2 Codering_3 "
    "ErvarenGezondheidGoedZeerGoed_4 VoldoetAanBeweegrichtlijn_5 WekelijkseSporters_6 Ondergewicht_7 "
    "NormaalGewicht_8 Overgewicht_9 ErnstigOvergewicht_10 Roker_11 VoldoetAanAlcoholRichtlijn_12 Drinker_13 "
    "ZwareDrinker_14 OvermatigeDrinker_15 EenOfMeerLangdurigeAandoeningen_16 BeperktVanwegeGezondheid_17 "
    "ErnstigBeperktVanwegeGezondheid_18 LangdurigeZiekteEnBeperkt_19 EenOfMeerLichamelijkeBeperkingen_20 "
    "BeperkingInHoren_21 BeperkingInZien_22 BeperkingInBewegen_23 MatigHoogRisicoOpAngstOfDepressie_24 "
    "HoogRisicoOpAngstOfDepressie_25 HeelVeelStressInAfgelopen4Weken_26 MatigVeelRegieOverEigenLeven_27 "
    "Eenzaam_28 ErnstigZeerErnstigEenzaam_29 EmotioneelEenzaam_30 SociaalEenzaam_31 Mantelzorger_32 "
    "Vrijwilligerswerk_33 LopenEnOfFietsenNaarSchoolOfWerk_34 LopenNaarSchoolOfWerk_35 "
    "FietsenNaarSchoolOfWerk_36 ErnstigeGeluidhinderDoorBuren_37 MoeiteMetRondkomen_38"
).split()
_HEALTH_EMPTY = {"LopenEnOfFietsenNaarSchoolOfWerk_34", "LopenNaarSchoolOfWerk_35", "FietsenNaarSchoolOfWerk_36"}


def write_health(rng, regions: list[dict], gm_name: str, path: Path, *, period: str = "2022JJ00") -> None:
    """``regions``: dicts with code, level (Gemeente/Wijk/Buurt), residents, health (dict or None)
    and optionally ``gm_name`` (the region's municipality, for a table of many; default ``gm_name``);
    ``period``: the wave's Perioden value."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(HEALTH_COLUMNS)
    indicators = HEALTH_COLUMNS[8:]
    for k, reg in enumerate(regions):
        h = reg["health"]
        n_eff = float(np.clip(reg["residents"] * 0.25, 60, 4000))
        est = {c: round(h[c], 1) for c in indicators if h is not None and c in h}
        half = {}
        for c, e in est.items():
            p = e / 100
            half[c] = 100 * 1.96 * math.sqrt(max(p * (1 - p), 0.01) / n_eff) * rng.uniform(0.85, 1.15)
        for m, marge in enumerate(("MBG0095", "MOG0095", "MW00000")):
            row = [str(3 * k + m), "20300", marge, reg["code"].ljust(10), period,
                   reg.get("gm_name", gm_name).ljust(40),
                   reg["level"].ljust(10), reg["code"].ljust(20)]
            for c in indicators:
                if c in _HEALTH_EMPTY or c not in est:
                    row.append("")
                    continue
                e = est[c]
                val = {"MW00000": e, "MOG0095": max(round(e - half[c], 1), 0.0),
                       "MBG0095": min(round(e + half[c], 1), 100.0)}[marge]
                row.append(f"{val:8.1f}")
            w.writerow(row)
    with atomic_write(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# 4. RIVM GCN Esri ASCII grid (Fortran E13.4 values, no .prj)
def fortran_e(v: float, width: int = 13, digits: int = 4) -> str:
    """Format like Fortran ``E13.4``: ``0.1269E+02``, ``-0.9990E+03``."""
    if v == 0:
        s = "0." + "0" * digits + "E+00"
    else:
        e = math.floor(math.log10(abs(v))) + 1
        m = round(abs(v) / 10**e, digits)
        if m >= 1.0:
            m /= 10
            e += 1
        s = ("-" if v < 0 else "") + f"{m:.{digits}f}" + f"E{e:+03d}"
    return s.rjust(width)


def write_asc(arr: np.ndarray, xll: float, yll: float, cell: float, path: Path) -> None:
    nrows, ncols = arr.shape
    head = [f"NCOLS{ncols:13d}", f"NROWS{nrows:13d}", f"XLLCORNER{int(xll):13d}", f"YLLCORNER{int(yll):13d}",
            f"CELLSIZE{int(cell):13d}", f"NODATA_VALUE{fortran_e(-999.0)}"]
    body = ["".join(fortran_e(float(v)) for v in row) for row in arr]
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(head + body) + "\n", encoding="ascii")


# --------------------------------------------------------------------------------------------
# 5. RIVM ALO noise GeoTIFF
NOISE_NODATA = -3.4028234663852886e38


def write_noise_tif(arr: np.ndarray, transform, path: Path) -> None:
    import rasterio

    profile = dict(driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1, dtype="float32",
                   crs="EPSG:28992", transform=transform, nodata=NOISE_NODATA, compress="deflate",
                   predictor=3, tiled=True, blockxsize=256, blockysize=256)
    with atomic_write(path) as tmp:
        with rasterio.open(tmp, "w", **profile) as dst:
            dst.write(arr.astype("float32"), 1)


# --------------------------------------------------------------------------------------------
# 6. OSM XML
class OsmBuilder:
    """Collects nodes/ways/relations with positive ids and writes OSM XML 0.6."""

    def __init__(self):
        from pyproj import Transformer

        self._tr = Transformer.from_crs(28992, 4326, always_xy=True)
        self.nodes: list[tuple[float, float, dict]] = []
        self._index: dict[tuple[float, float], int] = {}
        self.ways: list[tuple[list[int], dict]] = []
        self.relations: list[tuple[list[tuple[str, int, str]], dict]] = []

    def node(self, x: float, y: float, tags: dict | None = None, share: bool = True) -> int:
        key = (round(x, 2), round(y, 2))
        if share and not tags and key in self._index:
            return self._index[key]
        self.nodes.append((x, y, dict(tags or {})))
        nid = len(self.nodes)
        if share and not tags:
            self._index[key] = nid
        return nid

    def tag_node(self, x: float, y: float, tags: dict) -> bool:
        """Add tags to the shared node at (x, y) (e.g. kerb=raised where a footway meets a street)."""
        nid = self._index.get((round(x, 2), round(y, 2)))
        if nid is None:
            return False
        self.nodes[nid - 1][2].update(tags)
        return True

    def way(self, coords, tags: dict, closed: bool = False) -> int:
        ids = [self.node(float(x), float(y)) for x, y in coords]
        ids = [n for k, n in enumerate(ids) if k == 0 or n != ids[k - 1]]
        if closed and ids[0] != ids[-1]:
            ids.append(ids[0])
        self.ways.append((ids, dict(tags)))
        return len(self.ways)

    def relation(self, members, tags: dict) -> int:
        self.relations.append((members, dict(tags)))
        return len(self.relations)

    def xml(self) -> str:
        from xml.sax.saxutils import quoteattr

        xy = np.array([(x, y) for x, y, _ in self.nodes])
        lon, lat = self._tr.transform(xy[:, 0], xy[:, 1])
        out = ["<?xml version='1.0' encoding='UTF-8'?>",
               '<osm version="0.6" generator="healthgeo-demo" copyright="SYNTHETIC demo data, CC0">',
               f'  <bounds minlat="{lat.min():.7f}" minlon="{lon.min():.7f}" maxlat="{lat.max():.7f}" '
               f'maxlon="{lon.max():.7f}"/>']

        def tag_lines(tags):
            return [f"    <tag k={quoteattr(k)} v={quoteattr(str(v))}/>" for k, v in tags.items()]

        for i, ((_, _, tags), la, lo) in enumerate(zip(self.nodes, lat, lon), start=1):
            head = f'  <node id="{i}" visible="true" version="1" lat="{la:.7f}" lon="{lo:.7f}"'
            if tags:
                out += [head + ">", *tag_lines(tags), "  </node>"]
            else:
                out.append(head + "/>")
        for i, (ids, tags) in enumerate(self.ways, start=1):
            out.append(f'  <way id="{i}" visible="true" version="1">')
            out += [f'    <nd ref="{n}"/>' for n in ids]
            out += tag_lines(tags)
            out.append("  </way>")
        for i, (members, tags) in enumerate(self.relations, start=1):
            out.append(f'  <relation id="{i}" visible="true" version="1">')
            out += [f'    <member type="{t}" ref="{r}" role="{role}"/>' for t, r, role in members]
            out += tag_lines(tags)
            out.append("  </relation>")
        out.append("</osm>")
        return "\n".join(out) + "\n"


def write_osm(city: City, path: Path) -> None:
    b = OsmBuilder()
    add_city_osm(b, city)
    with atomic_write(path) as tmp:
        tmp.write_text(b.xml(), encoding="utf-8")


def add_city_osm(b: OsmBuilder, city: City) -> None:
    """Add one city's ways, nodes and relations to ``b`` (ids continue the builder's numbering)."""
    for r in city.main_roads:
        b.way(r.coords, r.tags)
    for r in city.streets:
        b.way(r.coords, r.tags)
    for r in city.fragments:
        b.way(r.coords, r.tags)
    for i, end in city.kerbs:  # raised kerbs where footways meet streets (wheelchair network)
        x, y = city.streets[i].coords[end]
        b.tag_node(float(x), float(y), {"barrier": "kerb", "kerb": "raised"})
    for g in city.greens:
        coords = np.asarray(g.geom.exterior.coords)[:-1]
        if g.inner is not None:
            outer = b.way(np.vstack([coords, coords[:1]]), {}, closed=True)
            ic = np.asarray(g.inner.exterior.coords)
            inner = b.way(ic, {}, closed=True)
            b.relation([("way", outer, "outer"), ("way", inner, "inner")], {"type": "multipolygon", **g.tags})
        else:
            b.way(np.vstack([coords, coords[:1]]), g.tags, closed=True)
    for a in city.amenities:
        b.node(a.x, a.y, a.tags, share=False)
    # two school grounds mapped as areas (as many schools are in OSM)
    for k, a in enumerate([a for a in city.amenities if a.category == "primary_school"][:2]):
        sq = np.array([[a.x - 40, a.y - 30], [a.x + 40, a.y - 30], [a.x + 40, a.y + 30], [a.x - 40, a.y + 30],
                       [a.x - 40, a.y - 30]]) + 60
        b.way(sq, {"amenity": "school", "isced:level": "1", "name": f"Brede School {k + 1}"}, closed=True)


# --------------------------------------------------------------------------------------------
# 7./8. GeoPackages (BAG verblijfsobjecten, CBS vk100)
@contextlib.contextmanager
def _fixed_gpkg_date():
    """Fix GeoPackage ``gpkg_contents.last_change`` (GDAL config ``OGR_CURRENT_DATE``)."""
    import pyogrio

    old = pyogrio.get_gdal_config_option("OGR_CURRENT_DATE")
    pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": FIXED_DATE})
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options({"OGR_CURRENT_DATE": old})


def write_gpkg(gdf, path: Path, layer: str) -> None:
    import pyogrio

    with _fixed_gpkg_date(), atomic_write(path) as tmp:
        pyogrio.write_dataframe(gdf, tmp, layer=layer, driver="GPKG")


# --------------------------------------------------------------------------------------------
# 9. Luchtmeetnet bulk CSV
def _fmt2(v: float) -> str:
    s = f"{v:.2f}".rstrip("0").rstrip(".")
    return s if s != "-0" else "0"


def write_luchtmeetnet(stations: list[dict], times, values: np.ndarray, month: str, path: Path) -> None:
    """``values``: (n_hours, n_stations) with NaN = missing; ``times``: hour starts (datetime64)."""
    import pandas as pd

    start = pd.Timestamp(times[0])
    end = pd.Timestamp(times[-1]) + pd.Timedelta(hours=1)
    fmt = "%Y%m%d %H:%M"

    def meta(a, b, key, vals):
        return ";".join([a, b, "", "", key, *vals])

    rows = [
        meta("Export", f"EXP-{month} (SYNTHETIC healthgeo.demo)", "StationsCode", [s["code"] for s in stations]),
        meta("Periode", f"{start.strftime(fmt)} - {end.strftime(fmt)}", "BeheerderMeetStation",
             ["RIVM"] * len(stations)),
        meta("Bron", "SYNTHETIC demo data generated by healthgeo.demo - not real", "StationsNaam",
             [s["name"] for s in stations]),
        meta("Beschrijving data", "https://data.rivm.nl/data/luchtmeetnet/readme.pdf", "Latitude,Longitude",
             [f"({s['lat']:.6f},{s['lon']:.6f})" for s in stations]),
        meta("Accreditatienummer", "https://www.rva.nl/alle-geaccrediteerden/", "StationsGebied",
             [s["gebied"] for s in stations]),
        meta("", "", "StationsType", [s["type"] for s in stations]),
        meta("", "", "Meetprincipe", ["Chemiluminescentie"] * len(stations)),
        meta("", "", "Meetopstelling", ["Teledyne API T200 chemiluminescent NOx analyser"] * len(stations)),
        meta("", "", "Accreditatienummer", ["L224"] * len(stations)),
        ";".join(["Component", "Bep.periode", "Eenheid", " Begindatumtijd", "Einddatumtijd",
                  *[s["code"] for s in stations]]),
    ]
    for t, row in zip(times, values):
        t0 = pd.Timestamp(t)
        t1 = t0 + pd.Timedelta(hours=1)
        cells = ["" if not np.isfinite(v) else _fmt2(float(v)) for v in row]
        rows.append(";".join(["NO2", "uur", "µg/m³", t0.strftime(fmt), t1.strftime(fmt), *cells]))
    with atomic_write(path) as tmp:
        tmp.write_bytes(("\n".join(rows) + "\n").encode("latin-1"))


# --------------------------------------------------------------------------------------------
# 10. Samen Meten pivot + things
def write_samenmeten(names: list[str], times, values: np.ndarray, path: Path) -> None:
    """``values`` (n_hours, n_sensors): NaN = no observation, -999.0 kept as the sentinel."""
    import pandas as pd

    lines = [",".join(["phenomenonTime", *names])]
    for t, row in zip(times, values):
        if np.all(np.isnan(row)):
            continue  # the pivot only has hours where some sensor reported
        ts = pd.Timestamp(t).strftime("%Y-%m-%dT%H:%M:%S.000Z")
        cells = ["" if np.isnan(v) else ("-999.0" if v == -999.0 else f"{v:.6g}") for v in row]
        lines.append(",".join([ts, *cells]))
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_things(rows: list[tuple[str, float, float]], path: Path) -> None:
    lines = ["name,lon,lat"] + [f" {n},{lon:.5f},{lat:.5f}" for n, lon, lat in rows]
    with atomic_write(path) as tmp:
        tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")


def line_distance(xs: np.ndarray, ys: np.ndarray, geom) -> np.ndarray:
    return shapely.distance(shapely.points(xs, ys), geom)



# --------------------------------------------------------------------------------------------
# 9. CBS SES-WOA "scores per wijk en buurt" CSV (TypedDataSet layout, regio-indeling 2023)
SES_COLUMNS = ("ID WijkenEnBuurten Perioden Gemeentenaam_1 SoortRegio_2 Codering_3 ParticuliereHuishoudens_4 "
               "GemiddeldeScore_5 Spreiding_6 GemiddeldeScore_7 GemiddeldeScore_8 GemiddeldeScore_9").split()
SES_MIN_HOUSEHOLDS = 50  # CBS publishes '.' for fewer private households


def ses_scores(rng, s: dict) -> tuple[float, float, float, float, float]:
    """(total, spread, welvaart, opleiding, arbeid) of a region from its income and poverty:
    consistent with the KWB incomes (even where the KWB hides them), standardised around 0."""
    welvaart = 0.045 * (s["income"] - 30.0) + rng.normal(0, 0.03)
    opleiding = -0.5 * s["poverty"] + 0.2 + rng.normal(0, 0.05)
    arbeid = -0.35 * s["poverty"] + 0.1 + rng.normal(0, 0.05)
    total = 0.5 * welvaart + 0.3 * opleiding + 0.2 * arbeid
    spread = 0.35 + 0.1 * s["poverty"] + abs(rng.normal(0, 0.02))
    return total, spread, welvaart, opleiding, arbeid


def ses_regions(city: City, agg: dict, gm: str, name: str) -> list[tuple[str, str, str, dict]]:
    """(code, level, gemeente name, true values) of one municipality's regions in table order."""
    regions = [(gm, "Gemeente")]
    for wk in city.wijken:
        regions.append((wk["code"], "Wijk"))
        regions += [(b["code"], "Buurt") for b in city.buurten if b["wijkcode"] == wk["code"]]
    return [(code, level, name, agg[code]) for code, level in regions]


def write_ses(rng, city: City, agg: dict, gm: str, name: str, path: Path) -> None:
    write_ses_regions(rng, ses_regions(city, agg, gm, name), path)


def write_ses_regions(rng, regions: list[tuple[str, str, str, dict]], path: Path) -> None:
    """The SES-WOA table of ``regions`` (:func:`ses_regions` of one or many municipalities)."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(SES_COLUMNS)
    for k, (code, level, name, s) in enumerate(regions):
        row = [str(k), code.ljust(10), "2022JJ00", name.ljust(40), level.ljust(10), code.ljust(20)]
        hh = int(s["households"])
        row.append(str(hh) if hh else "-")
        if hh < SES_MIN_HOUSEHOLDS:
            row += ["."] * 5
        else:
            row += [f"{v:.3f}" for v in ses_scores(rng, s)]
        w.writerow(row)
    with atomic_write(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")


# --------------------------------------------------------------------------------------------
# 10. CBS "Nabijheid voorzieningen" CSV (TypedDataSet layout), from the demo's own road network
NABIJHEID_COLUMNS = ("ID WijkenEnBuurten Perioden Gemeentenaam_1 SoortRegio_2 Codering_3 "
                     "AfstandTotHuisartsenpraktijk_5 AfstandTotGroteSupermarkt_24 AfstandTotKinderdagverblijf_28 "
                     "AfstandTotSchool_60 AfstandTotSchool_64").split()
#: healthgeo category of each distance column (childcare: no demo amenity -> '.'; the second
#: AfstandTotSchool is voortgezet onderwijs, the demo's "school" category)
_NABIJHEID_DEST = {"AfstandTotHuisartsenpraktijk_5": "gp", "AfstandTotGroteSupermarkt_24": "supermarket",
                   "AfstandTotKinderdagverblijf_28": None, "AfstandTotSchool_60": "primary_school",
                   "AfstandTotSchool_64": "school"}


_NOT_FOR_CARS = {"footway", "cycleway", "path", "pedestrian", "steps", "track", "bridleway"}


def nabijheid_distances(rng, city: City) -> dict[str, dict[str, float]]:
    """Per buurt code and category: the residents' mean distance (km) to the nearest amenity over the
    demo's own car roads (its OSM ways without footways, cycleways and paths; healthgeo.network),
    as CBS measures over the road network, with +-5 % noise."""
    import geopandas as gpd
    import shapely

    from .network import graph_from_lines, home_distances

    roads = [r for r in (*city.main_roads, *city.streets) if r.tags.get("highway") not in _NOT_FOR_CARS]
    lines = gpd.GeoDataFrame({"highway": [r.tags.get("highway", "road") for r in roads]},
                             geometry=[shapely.LineString(r.coords) for r in roads], crs="EPSG:28992")
    net = graph_from_lines(lines, "walk", densify_m=30.0, largest_scc=False)  # unreachable: inf, left out
    d = city.dwellings
    homes = gpd.GeoDataFrame({"residents": d["residents"]}, geometry=gpd.points_from_xy(d["x"], d["y"]),
                             crs="EPSG:28992")
    cats = sorted({c for c in _NABIJHEID_DEST.values() if c})
    dests = {c: gpd.GeoDataFrame(geometry=gpd.points_from_xy([a.x for a in city.amenities if a.category == c],
                                                             [a.y for a in city.amenities if a.category == c]),
                                 crs="EPSG:28992") for c in cats}
    dist, _ = home_distances(net, homes, dests, verify=False)
    out: dict[str, dict[str, float]] = {}
    for k, b in enumerate(city.buurten):
        sel = (d["buurt"] == k) & (d["residents"] > 0)
        row = {}
        for c in cats:
            v = dist[c].to_numpy(float)[sel]
            w = d["residents"][sel]
            ok = np.isfinite(v)
            row[c] = float(np.average(v[ok], weights=w[ok]) / 1000 * rng.uniform(0.95, 1.05)) \
                if ok.any() and w[ok].sum() > 0 else float("nan")
        out[b["code"]] = row
    return out


def nabijheid_rows(rng, city: City, name: str) -> list[list[str]]:
    """One municipality's Nabijheid rows without the leading ``ID`` (buurten in wijk order)."""
    per_buurt = nabijheid_distances(rng, city)
    rows = []
    for wk in city.wijken:
        for b in city.buurten:
            if b["wijkcode"] != wk["code"]:
                continue
            row = [b["code"].ljust(10), "2023JJ00", name.ljust(40), "Buurt     ", b["code"].ljust(20)]
            for col, cat in _NABIJHEID_DEST.items():
                v = per_buurt[b["code"]].get(cat) if cat else None
                # CBS: '.' where the buurt has too few residents or the figure is not known
                row.append("." if v is None or not np.isfinite(v) or b["residents"] < 10 else f"{v:.1f}")
            rows.append(row)
    return rows


def write_nabijheid(rng, city: City, gm: str, name: str, path: Path) -> None:
    write_nabijheid_rows(nabijheid_rows(rng, city, name), path)


def write_nabijheid_rows(rows: list[list[str]], path: Path) -> None:
    """The Nabijheid table of :func:`nabijheid_rows` (one or many municipalities), IDs from 0."""
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=";", quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    w.writerow(NABIJHEID_COLUMNS)
    for k, row in enumerate(rows):
        w.writerow([str(k), *row])
    with atomic_write(path) as tmp:
        tmp.write_text(buf.getvalue(), encoding="utf-8")
