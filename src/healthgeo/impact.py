"""Attributable health burden, DALYs and euros per ward from residents' exposure.

Input is the per-point ``residents_exposure`` table (design.md): one row per residents point with
``buurtcode``, ``wijkcode``, ``residents``, ``residents_65_plus``, ``no2_ugm3``, ``pm25_ugm3``,
``pm10_ugm3``, ``lden_db``, ``lnight_db``. Results are aggregated to any ward level by its code
column (``level="buurtcode"`` or ``"wijkcode"``).

Methods (explained with full sources in ``docs/methods.md``, impact stage, from
docs/methods.md#log-linear-relative-risk to docs/methods.md#aggregation-of-impacts):

- Log-linear relative risk ``RR(c) = exp(ln(RR10) * (c - c0) / 10)`` for ``c > c0``, else 1.
- Population attributable fraction over exposure groups (here: the residents points of a ward,
  weighted by residents) ``PAF = sum p_i (RR_i - 1) / (sum p_i (RR_i - 1) + 1)``;
  attributable cases = PAF x baseline cases of the ward.
- Air: natural-cause mortality, NO2 RR 1.02 (1.01-1.04) and PM2.5 RR 1.08 (1.06-1.09) per
  10 ug/m3, counterfactual c0 = WHO AQG level (10 resp. 5 ug/m3) (WHO AQG 2021; Huangfu &
  Atkinson 2020; Chen & Hoek 2020).
- Road-traffic noise (WHO ENG 2018; Directive (EU) 2020/367 Annex III): adults highly annoyed
  ``%HA = 78.9270 - 3.1162 Lden + 0.0342 Lden^2`` and highly sleep-disturbed
  ``%HSD = 19.4312 - 0.9336 Lnight + 0.0126 Lnight^2``, people counted per 1 dB band
  (sum N_band x %(band centre) / 100); ischaemic heart disease incidence
  ``RR = exp(ln(1.08)/10 (Lden - 53))`` for Lden > 53 (RR 1.08, 95 % CI 1.01-1.15, van Kempen et
  al. 2018, the WHO ENG review).
- Physical activity (WHO HEAT; Kelly et al. 2014), scenarios only: when the table has
  ``active_{mode}_users_share`` and ``active_{mode}_min_per_week`` (``mode`` walk or bike, set by
  :func:`healthgeo.scenarios.apply_scenario`), the risk reduction of a new user is
  ``min((1 - RR_ref) * minutes / ref_minutes, cap)`` (walking RR_ref 0.89 (0.83-0.96) at
  168 min/week, cap 0.30; cycling 0.90 (0.87-0.94) at 100 min/week, cap 0.45; caps to verify) and
  ``deaths_averted_active_{mode}_per_year_{bound}`` = sum over points of residents x users_share x
  share of residents in the HEAT ages (20-74 walking, 20-64 cycling) x their all-cause mortality x
  risk reduction; ``dalys_averted_active_{mode}_per_year_{bound}`` = deaths x years of life lost
  per death. The low bound uses the low RR, i.e. the larger benefit. ``dalys_total`` and
  ``eur_total`` are then net of the averted DALYs. Baseline tables have no such columns (and no
  averted columns); :func:`healthgeo.scenarios.compare` counts a missing averted column as 0.
- DALY = YLL + YLD; YLL = attributable deaths x years of life lost per death;
  YLD = cases x disability weight x duration.
- Euros = DALYs x value of a life year (price-indexed) + cases x value per case (default 0:
  monetised through DALYs only, to avoid double counting).

Every number is a field of :class:`HealthImpactParams` with its unit and source; values marked
"verify" were not read from the source and must be checked before publication.

Additivity: all count columns (deaths, cases, DALYs, euros) are additive over wards of one level,
so a municipal total is the sum over wards (:func:`impact_totals`). Because the PAF is not linear,
a wijk computed directly from its points differs slightly from the sum of its buurten.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ._errors import ConfigError, InputDataError, SchemaDriftError
from .dictionary import CHEN_HOEK_2020, EU_2020_367, HUANGFU_ATKINSON_2020, WHO_AQG_2021, WHO_ENG_2018, ColumnDoc, doc

log = logging.getLogger(__name__)

# Citations used only in this module.
VAN_KEMPEN_2018 = (
    "van Kempen et al. (2018), WHO ENG systematic review on environmental noise and cardiovascular and "
    "metabolic effects, Int. J. Environ. Res. Public Health 15(2):379 (road noise - IHD incidence "
    "RR 1.08, 95 % CI 1.01-1.15 per 10 dB Lden)"
)
GUSKI_2017 = "Guski, Schreckenberg & Schuemer (2017), WHO ENG systematic review on noise and annoyance, IJERPH 14(12):1539"
BASNER_MCGUIRE_2018 = "Basner & McGuire (2018), WHO ENG systematic review on noise and sleep, IJERPH 15(3):519"
WHO_BOD_NOISE_2011 = "WHO Europe (2011), Burden of disease from environmental noise"
CBS_DEATHS = "CBS StatLine 37979ned Overledenen; kerncijfers (2023: ~169 000 deaths, ~17.9 M residents)"
CBS_DEATHS_NATURAL = (
    "CBS (2024), 169 000 deaths in 2023 (StatLine 37979ned); CBS StatLine 85496NED, 17 811 291 residents on "
    "1 January 2023; RIVM VZinfo Letsels - sterfte: 10 515 deaths from external causes in 2022 of 170 112 "
    "(CBS 03747), i.e. 6.2 %"
)
CBS_DEATHS_AGE_2023 = (
    "CBS StatLine 83190NED Overledenen; geslacht, leeftijd (2023: 169 000 deaths, 56 % aged 80+) and 03747 "
    "Overledenen; doodsoorzaak (external causes 6.2 %, mostly under 45 and falls at 80+); CBS StatLine 85496NED "
    "population by age on 1 January 2023 (0-14 2.78 M, 15-24 2.20 M, 25-44 4.53 M, 45-64 4.79 M, 65+ 3.51 M)"
)
CBS_AGE_2018 = ("Monitor Langdurige Zorg, kerncijfers bevolking (CBS): 3 333 105 of 17 270 455 residents under 18 "
                "in 2018 (19.3 %)")
VZINFO_CHD = "RIVM VZinfo, Coronaire hartziekten - leeftijd en geslacht (Nivel Zorgregistraties, 2020)"
EU_HANDBOOK_2019 = "CE Delft et al. (2019), Handbook on the external costs of transport, version 2019, European Commission DG MOVE"
KELLY_2014 = (
    "Kelly et al. (2014), Systematic review and meta-analysis of reduction in all-cause mortality from walking "
    "and cycling and shape of dose response relationship, IJBNPA 11:132 (at 11.25 MET-h/week the all-cause "
    "mortality risk reduction was 11 %, 95 % CI 4-17 %, for walking and 10 %, 95 % CI 6-13 %, for cycling)"
)
WHO_HEAT_AT = (
    "WHO Europe, Health economic assessment tool (HEAT) for walking and for cycling, methods and user guide "
    "(Kahlmeier et al. 2017) and heatwalkingcycling.org (exposures converted to MET-h/week at 4.0 MET walking, "
    "6.8 MET cycling; ages 20-74 walking, 20-64 cycling)"
)
CBS_DEATHS_AGE_2019 = (
    "CBS doodsoorzakenstatistiek 2019 (provisional), deaths by 5-year age group, as published on "
    "staatvenz.nl kerncijfers Sterfte: 20 772 deaths aged 20-64, 48 590 aged 20-74"
)
CBS_POP_AGE_2019 = (
    "CBS StatLine 37296ned Bevolking; kerncijfers, 1 January 2019: 17 282 163 residents, 20-40 4 309 987, "
    "40-65 5 866 334, 65-80 2 515 184; 65-74 share of 65-79 (75.4 %) from CBS figures for 1 January 2020 "
    "quoted by a secondary page (65-70 1 003 778, 70-75 971 036, 65-80 2 618 874)"
)
WERKGROEP_DISCONTO_2020 = (
    "Rapport Werkgroep discontovoet 2020 (kabinet, in force 1 Jan 2021): standard real discount rate "
    "2.25 % = risk-free -1 % + risk premium 3.25 %"
)

_REQUIRED = ("residents",)
#: active-travel modes of the HEAT physical-activity benefit; a scenario marks its new walkers or
#: cyclists per residents point in ``active_{mode}_users_share`` and ``active_{mode}_min_per_week``
ACTIVE_MODES = ("walk", "bike")
#: prefixes of outcome columns that are benefits (positive = gain) and exist only in scenario tables
AVERTED_PREFIXES = ("deaths_averted_", "dalys_averted_")
_EXPOSURES = ("no2_ugm3", "pm25_ugm3", "lden_db", "lnight_db")
#: CBS age bands of the key figures (KWB a_00_14 ... a_65_oo); residents points carry
#: ``residents_{band}`` (healthgeo.population)
AGE_BANDS = ("0_14", "15_24", "25_44", "45_64", "65_plus")
BASELINES = ("age_specific", "crude")
BOUNDS = ("central", "low", "high")


def _p(default, unit: str, source: str, description: str, verify: bool = False):
    """A dataclass field carrying unit, source and description for the data dictionary."""
    kw = {"default_factory": (lambda d=default: dict(d))} if isinstance(default, dict) else {"default": default}
    return field(metadata={"unit": unit, "source": source, "description": description, "verify": verify}, **kw)


@dataclass(frozen=True)
class HealthImpactParams:
    """Every parameter of the health-impact model, with default, unit and source.

    Build from the ``impact:`` config section with :func:`params_from_config`. Relative risks are
    ``(central, low, high)`` per 10 units of exposure. Every value, its status (source value,
    derived, modelling choice, verify) and full reference: docs/methods.md#baseline-rates,
    docs/methods.md#dalys, docs/methods.md#physical-activity-benefit and docs/methods.md#references.
    """

    no2_rr10: tuple = _p((1.02, 1.01, 1.04), "RR per 10 ug/m3", f"{WHO_AQG_2021}; {HUANGFU_ATKINSON_2020}",
                         "NO2 long-term exposure, natural-cause mortality (central, low, high)")
    no2_c0_ugm3: float = _p(10.0, "ug/m3", WHO_AQG_2021, "NO2 counterfactual = WHO AQG annual level")
    pm25_rr10: tuple = _p((1.08, 1.06, 1.09), "RR per 10 ug/m3", f"{WHO_AQG_2021}; {CHEN_HOEK_2020}",
                          "PM2.5 long-term exposure, natural-cause mortality (central, low, high)")
    pm25_c0_ugm3: float = _p(5.0, "ug/m3", WHO_AQG_2021, "PM2.5 counterfactual = WHO AQG annual level")
    mortality_per_100k: float = _p(
        890.0, "deaths per 100 000 residents per year", CBS_DEATHS_NATURAL,
        "Baseline natural-cause deaths (nearly all adults) per 100 000 residents of all ages: "
        "2023 all-cause 169 000 / 17.81 M = 949; external causes 6.2 % -> natural ~890")
    baseline: str = _p(
        "age_specific", "-", "docs/methods.md#baseline-rates",
        "How baseline deaths and IHD incidence are computed: 'age_specific' (default) - residents of each "
        "CBS age band x the band's national rate (mortality_per_100k_by_age, ihd_incidence_per_100k_by_age), "
        "so a young ward gets fewer baseline deaths than an old one of the same size; 'crude' - all residents "
        "x mortality_per_100k / ihd_incidence_per_100k (or the optional 65+/<65 split)")
    mortality_per_100k_by_age: dict = _p(
        {"0_14": 28.0, "15_24": 12.0, "25_44": 35.0, "45_64": 325.0, "65_plus": 4000.0},
        "natural-cause deaths per 100 000 residents of the band per year", CBS_DEATHS_AGE_2023,
        "National natural-cause mortality per CBS age band (KWB a_00_14 ... a_65_oo), NL 2023: all-cause deaths "
        "per band / residents per band, minus external causes (a larger share of young deaths); with the 2023 "
        "age structure they give 158 600 natural-cause deaths = 169 000 x 0.938, the crude 890/100 000. "
        "The split over bands is derived from CBS figures read second-hand", verify=True)
    ihd_incidence_per_100k_by_age: dict = _p(
        {"0_14": 0.0, "15_24": 2.0, "25_44": 40.0, "45_64": 600.0, "65_plus": 2100.0},
        "new IHD cases per 100 000 residents of the band per year", VZINFO_CHD,
        "IHD incidence per CBS age band; with the 2020 age structure they sum to ~104 600 new cases "
        "(VZinfo 2020: 104 700). The split over bands is an assumption calibrated to that total (VZinfo "
        "shows incidence rising steeply after 45)", verify=True)
    registered_deaths_per_year: float | None = _p(
        None, "natural-cause deaths per year in the municipality", "config (CBS StatLine 03747 / 70895ned per gemeente)",
        "Optional: the municipality's registered natural-cause deaths of the year. When given, the ward baseline "
        "deaths are scaled by one factor so that they sum to it (the factor is written into the data dictionary "
        "and the log); the age pattern between wards is kept")
    mortality_per_100k_65_plus: float | None = _p(
        None, "deaths per 100 000 residents 65+ per year", CBS_DEATHS,
        "Optional age split: baseline rate for residents 65+ (used with the under-65 rate when both are "
        "set and residents_65_plus is known)", verify=True)
    mortality_per_100k_under_65: float | None = _p(
        None, "deaths per 100 000 residents <65 per year", CBS_DEATHS,
        "Optional age split: baseline rate for residents under 65", verify=True)
    adult_share: float = _p(
        0.80, "fraction", CBS_AGE_2018,
        "Share of residents aged 18+ used for the annoyance / sleep curves (derived from adults only); "
        "1 - 0.193 = 0.807 nationally, so 0.80")
    noise_band_db: float = _p(1.0, "dB", f"{EU_2020_367}; {WHO_ENG_2018}",
                              "Width of the noise bands; a band [b, b+w) is evaluated at its centre b + w/2")
    ha_lden_min_db: float = _p(
        45.0, "dB Lden", GUSKI_2017,
        "Lowest Lden counted for high annoyance. The road %HA quadratic has its minimum at 45.6 dB and "
        "rises again below it, so lower limits must be >= 44.6 dB (1 dB bands)", verify=True)
    ha_lden_max_db: float | None = _p(
        80.0, "dB Lden", GUSKI_2017,
        "Upper end of the %HA curve's data range; higher bands are evaluated here", verify=True)
    hsd_lnight_min_db: float = _p(40.0, "dB Lnight", BASNER_MCGUIRE_2018,
                                  "Lowest Lnight counted for high sleep disturbance", verify=True)
    hsd_lnight_max_db: float | None = _p(65.0, "dB Lnight", BASNER_MCGUIRE_2018,
                                         "Upper end of the %HSD curve's data range", verify=True)
    ihd_rr10: tuple = _p((1.08, 1.01, 1.15), "RR per 10 dB Lden", f"{EU_2020_367}; {VAN_KEMPEN_2018}",
                         "Road-traffic noise, ischaemic heart disease incidence (central, low, high)")
    ihd_lden_c0_db: float = _p(53.0, "dB Lden", f"{EU_2020_367}; {WHO_ENG_2018}", "IHD counterfactual level")
    ihd_incidence_per_100k: float = _p(
        600.0, "new IHD cases per 100 000 residents per year",
        f"{VZINFO_CHD}; CBS StatLine 85496NED (17 407 585 residents on 1 January 2020)",
        "Baseline IHD incidence: 2020 new cases AMI 68 400 + angina 26 300 + other IHD 10 000 "
        "= 104 700 / 17.41 M residents = 601")
    yll_per_death: float = _p(
        10.0, "years", CBS_DEATHS,
        "Years of life lost per attributable death: remaining life expectancy at the mean age at death "
        "(~78-79 y in NL); an assumption - no published value per attributable death was found", verify=True)
    dw_highly_annoyed: float = _p(0.02, "disability weight", WHO_BOD_NOISE_2011, "High annoyance", verify=True)
    dw_highly_sleep_disturbed: float = _p(0.07, "disability weight", WHO_BOD_NOISE_2011, "High sleep disturbance",
                                         verify=True)
    dw_ihd: float = _p(0.405, "disability weight", WHO_BOD_NOISE_2011,
                       "Ischaemic heart disease (acute myocardial infarction weight used in WHO 2011)", verify=True)
    duration_years: float = _p(1.0, "years", WHO_BOD_NOISE_2011,
                               "Duration of HA / HSD per prevalent case in an annual (prevalence-based) burden")
    ihd_duration_years: float = _p(
        1.0, "years", WHO_BOD_NOISE_2011,
        "Duration applied to incident IHD cases (1 = first-year burden only; chronic burden is larger)",
        verify=True)
    heat_walk_rr: tuple = _p(
        (0.89, 0.83, 0.96), "RR at heat_walk_ref_min_per_week", f"{KELLY_2014}; {WHO_HEAT_AT}",
        "Walking, all-cause mortality relative risk at the reference dose (central, low, high): risk "
        "reduction 11 % (95 % CI 4-17 %); the low RR gives the larger benefit")
    heat_walk_ref_min_per_week: float = _p(
        168.0, "minutes per week", f"{KELLY_2014}; {WHO_HEAT_AT}",
        "Walking reference dose: 11.25 MET-h/week at 4.0 MET = 168.75 min/week")
    heat_walk_cap: float = _p(0.30, "fraction", WHO_HEAT_AT,
                              "Largest all-cause mortality risk reduction credited to walking (HEAT cap)",
                              verify=True)
    heat_bike_rr: tuple = _p(
        (0.90, 0.87, 0.94), "RR at heat_bike_ref_min_per_week", f"{KELLY_2014}; {WHO_HEAT_AT}",
        "Cycling, all-cause mortality relative risk at the reference dose (central, low, high): risk "
        "reduction 10 % (95 % CI 6-13 %); the low RR gives the larger benefit")
    heat_bike_ref_min_per_week: float = _p(
        100.0, "minutes per week", f"{KELLY_2014}; {WHO_HEAT_AT}",
        "Cycling reference dose: 11.25 MET-h/week at 6.8 MET = 99.3 min/week")
    heat_bike_cap: float = _p(0.45, "fraction", WHO_HEAT_AT,
                              "Largest all-cause mortality risk reduction credited to cycling (HEAT cap)",
                              verify=True)
    heat_age_share_walk: float = _p(
        0.70, "fraction", CBS_POP_AGE_2019,
        "Share of residents aged 20-74 (HEAT walking ages): NL 1 January 2019 20-64 10 176 321 + 65-74 "
        "~1 896 600 (65-79 x 0.754) = ~12.07 M of 17 282 163 = 0.699", verify=True)
    heat_age_share_bike: float = _p(
        0.59, "fraction", CBS_POP_AGE_2019,
        "Share of residents aged 20-64 (HEAT cycling ages): NL 1 January 2019 10 176 321 of 17 282 163 = 0.589",
        verify=True)
    heat_mortality_per_100k_walk: float = _p(
        400.0, "deaths per 100 000 residents aged 20-74 per year", f"{CBS_DEATHS_AGE_2019}; {CBS_POP_AGE_2019}",
        "Baseline all-cause mortality of the walking age group: 48 590 deaths aged 20-74 in 2019 / ~12.07 M "
        "residents aged 20-74 = ~402", verify=True)
    heat_mortality_per_100k_bike: float = _p(
        204.0, "deaths per 100 000 residents aged 20-64 per year", f"{CBS_DEATHS_AGE_2019}; {CBS_POP_AGE_2019}",
        "Baseline all-cause mortality of the cycling age group: 20 772 deaths aged 20-64 in 2019 / 10 176 321 "
        "residents aged 20-64 = 204", verify=True)
    air_in_total: tuple = _p(
        ("pm25", "no2"), "-", WHO_AQG_2021,
        "Pollutants added into dalys_total / eur_total. PM2.5 and NO2 effects overlap partly, so "
        "their sum may double count; use ('pm25',) for a conservative total")
    voly_eur: float = _p(70_000.0, "EUR per life year", EU_HANDBOOK_2019,
                         "Value of a life year (VOLY), applied to every DALY", verify=True)
    voly_price_year: int = _p(2016, "year", EU_HANDBOOK_2019, "Price year of voly_eur", verify=True)
    price_year: int = _p(2016, "year", "config", "Price year of the euro outputs")
    price_index: dict = _p({2016: 100.0}, "index", "CBS CPI (config)",
                           "Consumer price index by year; euros are scaled by index[price_year] / index[voly_price_year]")
    eur_per_case_highly_annoyed: float = _p(0.0, "EUR per case per year", "config",
                                            "Extra value per highly annoyed adult (0 = monetised via DALYs only)")
    eur_per_case_highly_sleep_disturbed: float = _p(0.0, "EUR per case per year", "config",
                                                    "Extra value per highly sleep-disturbed adult")
    eur_per_case_ihd: float = _p(0.0, "EUR per case", "config",
                                 "Extra value per incident IHD case (e.g. medical costs)")
    discount_rate: float = _p(0.0225, "per year (real)", WERKGROEP_DISCONTO_2020,
                              "Discount rate for multi-year streams (present_value)")
    horizon_years: int = _p(30, "years", "config (an appraisal choice, not a source value)",
                            "Appraisal horizon for present values of annual streams")

    def __post_init__(self) -> None:
        problems = _validate(self)
        if problems:
            raise ConfigError("invalid health-impact parameters:\n  - " + "\n  - ".join(problems))

    @property
    def price_factor(self) -> float:
        """index[price_year] / index[voly_price_year]."""
        return self.price_index[self.price_year] / self.price_index[self.voly_price_year]

    @property
    def voly_eur_indexed(self) -> float:
        return self.voly_eur * self.price_factor


def _validate(p: HealthImpactParams) -> list[str]:
    problems: list[str] = []
    for name in ("no2_rr10", "pm25_rr10", "ihd_rr10"):
        v = getattr(p, name)
        if len(v) != 3 or not all(x > 0 for x in v):
            problems.append(f"{name} must be three positive numbers (central, low, high); got {v!r}")
        elif not (v[1] <= v[0] <= v[2]):
            problems.append(f"{name} must satisfy low <= central <= high; got {v!r}")
    for name in ("heat_walk_rr", "heat_bike_rr"):
        v = getattr(p, name)
        if len(v) != 3 or not all(0 < x <= 1 for x in v):
            problems.append(f"{name} must be three relative risks in (0, 1] (central, low, high); got {v!r}")
        elif not (v[1] <= v[0] <= v[2]):
            problems.append(f"{name} must satisfy low <= central <= high; got {v!r}")
    for name in ("heat_walk_ref_min_per_week", "heat_bike_ref_min_per_week"):
        if not getattr(p, name) > 0:
            problems.append(f"{name} must be > 0 minutes per week; got {getattr(p, name)!r}")
    for name in ("adult_share", "heat_walk_cap", "heat_bike_cap", "heat_age_share_walk", "heat_age_share_bike"):
        if not 0.0 <= getattr(p, name) <= 1.0:
            problems.append(f"{name} must be within [0, 1]; got {getattr(p, name)!r}")
    for name in ("mortality_per_100k", "ihd_incidence_per_100k", "yll_per_death", "dw_highly_annoyed",
                 "heat_mortality_per_100k_walk", "heat_mortality_per_100k_bike",
                 "dw_highly_sleep_disturbed", "dw_ihd", "duration_years", "ihd_duration_years", "voly_eur",
                 "eur_per_case_highly_annoyed", "eur_per_case_highly_sleep_disturbed", "eur_per_case_ihd",
                 "horizon_years"):
        if getattr(p, name) < 0:
            problems.append(f"{name} must be >= 0; got {getattr(p, name)!r}")
    if p.baseline not in BASELINES:
        problems.append(f"baseline must be one of {BASELINES}; got {p.baseline!r}")
    for name in ("mortality_per_100k_by_age", "ihd_incidence_per_100k_by_age"):
        rates = getattr(p, name)
        if set(rates) != set(AGE_BANDS) or any(float(v) < 0 for v in rates.values()):
            problems.append(f"{name} needs a rate >= 0 for each CBS age band {list(AGE_BANDS)}; got {rates!r}")
    if p.registered_deaths_per_year is not None and not p.registered_deaths_per_year > 0:
        problems.append(f"registered_deaths_per_year must be > 0 (or left out); got {p.registered_deaths_per_year!r}")
    if (p.mortality_per_100k_65_plus is None) != (p.mortality_per_100k_under_65 is None):
        problems.append("set both mortality_per_100k_65_plus and mortality_per_100k_under_65, or neither")
    if p.noise_band_db <= 0:
        problems.append(f"noise_band_db must be > 0; got {p.noise_band_db!r}")
    vertex = 3.1162 / (2 * 0.0342)
    if p.ha_lden_min_db + p.noise_band_db < vertex:
        problems.append(
            f"ha_lden_min_db={p.ha_lden_min_db} is below the %HA curve's minimum ({vertex:.1f} dB) by more "
            "than one band: the curve rises again below it, so less noise would give more annoyance. "
            "Use ha_lden_min_db >= 45")
    bad_air = set(p.air_in_total) - {"pm25", "no2"}
    if bad_air:
        problems.append(f"air_in_total may hold 'pm25' and/or 'no2'; got {sorted(bad_air)}")
    for year in (p.price_year, p.voly_price_year):
        if year not in p.price_index:
            problems.append(f"price_index has no value for {year}; give e.g. price_index: {{{year}: <CPI>}}")
    if not -0.99 < p.discount_rate < 1:
        problems.append(f"discount_rate must be a fraction per year (e.g. 0.0225); got {p.discount_rate!r}")
    return problems


def params_from_config(config: Mapping | None) -> HealthImpactParams:
    """Build :class:`HealthImpactParams` from a config mapping (keys = field names).

    Unknown keys raise :class:`ConfigError` listing the valid ones; lists become tuples and
    ``price_index`` keys are converted to ``int`` (YAML/JSON give strings).
    """
    config = dict(config or {})
    names = {f.name for f in dataclasses.fields(HealthImpactParams)}
    unknown = sorted(set(config) - names)
    if unknown:
        raise ConfigError(f"impact: unknown parameter(s) {unknown}. Valid parameters: {sorted(names)}")
    kwargs = {}
    for key, value in config.items():
        if isinstance(value, list):
            value = tuple(value)
        if key == "price_index":
            try:
                value = {int(k): float(v) for k, v in dict(value).items()}
            except (TypeError, ValueError) as e:
                raise ConfigError(f"impact.price_index must map years to numbers; got {value!r}") from e
        if key in ("mortality_per_100k_by_age", "ihd_incidence_per_100k_by_age"):
            value = {str(k).removeprefix("age_"): float(v) for k, v in dict(value).items()}
        kwargs[key] = value
    return HealthImpactParams(**kwargs)


def describe_params(params: HealthImpactParams | None = None) -> pd.DataFrame:
    """One row per parameter: value, unit, description, source, verify flag (for the report)."""
    params = params or HealthImpactParams()
    rows = []
    for f in dataclasses.fields(params):
        rows.append({"parameter": f.name, "value": repr(getattr(params, f.name)), **f.metadata})
    return pd.DataFrame(rows).set_index("parameter")


# --------------------------------------------------------------------------------------------
# Building blocks (vectorised, hand-checkable)
# --------------------------------------------------------------------------------------------


def relative_risk(c, rr10: float, c0: float):
    """Log-linear RR(c) = exp(ln(rr10) (c - c0) / 10) for c > c0, else 1 (NaN stays NaN).

    See docs/methods.md#log-linear-relative-risk.
    """
    c = np.asarray(c, dtype=float)
    rr = np.exp(math.log(rr10) * np.maximum(c - c0, 0.0) / 10.0)
    return np.where(np.isnan(c), np.nan, rr)


def paf(rr, weights=None) -> float:
    """Population attributable fraction over exposure groups.

    ``PAF = sum p_i (RR_i - 1) / (sum p_i (RR_i - 1) + 1)`` with ``p_i = w_i / sum w``; for one
    group this is ``(RR - 1) / RR``. Groups with NaN RR are left out; NaN when no weight remains.
    See docs/methods.md#population-attributable-fraction.
    """
    rr = np.atleast_1d(np.asarray(rr, dtype=float))
    w = np.ones_like(rr) if weights is None else np.atleast_1d(np.asarray(weights, dtype=float))
    ok = ~np.isnan(rr) & ~np.isnan(w)
    total = w[ok].sum()
    if total <= 0:
        return float("nan")
    x = float(np.sum(w[ok] / total * (rr[ok] - 1.0)))
    return x / (x + 1.0)


def pct_highly_annoyed_road(lden):
    """%HA, road traffic (WHO ENG 2018 / Directive (EU) 2020/367): 78.9270 - 3.1162 L + 0.0342 L^2.

    The bare curve, clipped to [0, 100]; range limits are applied by the burden functions.
    See docs/methods.md#noise-annoyance-and-sleep-disturbance.
    """
    L = np.asarray(lden, dtype=float)
    return np.clip(78.9270 - 3.1162 * L + 0.0342 * L**2, 0.0, 100.0)


def pct_highly_sleep_disturbed_road(lnight):
    """%HSD, road traffic (WHO ENG 2018 / Directive (EU) 2020/367): 19.4312 - 0.9336 L + 0.0126 L^2.

    See docs/methods.md#noise-annoyance-and-sleep-disturbance.
    """
    L = np.asarray(lnight, dtype=float)
    return np.clip(19.4312 - 0.9336 * L + 0.0126 * L**2, 0.0, 100.0)


def band_centre(level, band_db: float = 1.0):
    """Centre of the ``band_db``-wide band [b, b + w) holding each level (NaN stays NaN)."""
    L = np.asarray(level, dtype=float)
    return np.floor(L / band_db) * band_db + band_db / 2.0


def banded_pct(level, curve, *, min_db: float, max_db: float | None, band_db: float = 1.0):
    """Curve value per point, evaluated at its band centre; 0 below ``min_db``; NaN stays NaN.

    Bands start at ``min_db`` (levels ``>= min_db`` count). Band centres above ``max_db`` are
    evaluated at ``max_db``. See docs/methods.md#noise-annoyance-and-sleep-disturbance.
    """
    L = np.asarray(level, dtype=float)
    centre = min_db + band_centre(L - min_db, band_db)
    if max_db is not None:
        centre = np.minimum(centre, max_db)
    out = np.where(L >= min_db, curve(centre), 0.0)
    return np.where(np.isnan(L), np.nan, out)


def heat_risk_reduction(minutes_per_week, rr_ref: float, ref_min_per_week: float, cap: float):
    """All-cause mortality risk reduction from walking or cycling (WHO HEAT, Kelly et al. 2014).

    ``min((1 - rr_ref) * minutes / ref_min_per_week, cap)``: linear in the weekly minutes up to the
    cap (equivalently RR = 1 - (1 - rr_ref) min(dose, dose_cap) / dose_ref); 0 for 0 minutes; NaN
    stays NaN. Bike at 100 min/week with RR 0.90: 0.10; at 300 min: 0.30; from 450 min: the 0.45 cap.
    See docs/methods.md#physical-activity-benefit (the caps are still to be verified).
    """
    m = np.asarray(minutes_per_week, dtype=float)
    return np.minimum((1.0 - rr_ref) * np.maximum(m, 0.0) / ref_min_per_week, cap)


def present_value(annual, years: int, rate: float, *, start: int = 1):
    """Present value of a constant annual stream: sum_{t=start}^{start+years-1} annual / (1+rate)^t.

    With the default ``start=1`` the first amount falls one year after the base year (Dutch MKBA
    practice discounts to the base year). Works on scalars, arrays and Series.
    See docs/methods.md#money-values-and-discounting.
    """
    if years < 0:
        raise ConfigError(f"years must be >= 0; got {years}")
    t = np.arange(start, start + int(years), dtype=float)
    factor = float(np.sum((1.0 + rate) ** -t)) if len(t) else 0.0
    return annual * factor


# --------------------------------------------------------------------------------------------
# Per-ward burden
# --------------------------------------------------------------------------------------------


def _check_table(table: pd.DataFrame, level: str) -> None:
    need = [level, *_REQUIRED]
    if any(c not in table.columns for c in need):
        raise SchemaDriftError("residents_exposure", need, list(table.columns),
                               hint="Build it with healthgeo.exposure (design.md, residents_exposure).")
    w = pd.to_numeric(table["residents"], errors="coerce")
    if (w < 0).any() or w.isna().any():
        raise InputDataError("residents_exposure.residents has negative or missing weights; "
                             "drop those points or set their weight to 0.")


def _age_rate(t: pd.DataFrame, rates: Mapping[str, float]) -> np.ndarray:
    """Rate per 100 000 of each point from its age bands (NaN where the bands are unknown).

    The band counts of a point are used as shares (CBS rounds them, so they need not add up to
    ``residents`` exactly): rate = sum_b n_b rate_b / sum_b n_b.
    """
    cols = [f"residents_{b}" for b in AGE_BANDS]
    if any(c not in t.columns for c in cols):
        return np.full(len(t), np.nan)
    n = np.column_stack([pd.to_numeric(t[c], errors="coerce").to_numpy(float) for c in cols])
    r = np.array([rates[b] for b in AGE_BANDS], float)
    tot = n.sum(axis=1)
    with np.errstate(all="ignore"):
        return np.where(tot > 0, (n * r).sum(axis=1) / tot, np.nan)


def baseline_rates(t: pd.DataFrame, p: HealthImpactParams) -> tuple[np.ndarray, np.ndarray, int]:
    """Baseline mortality and IHD incidence per 100 000 at each point, and how many points fell
    back to the crude rates (age bands unknown) under ``baseline: age_specific``."""
    res = t["residents"].to_numpy(float)
    if p.mortality_per_100k_65_plus is not None and "residents_65_plus" in t.columns:
        old = pd.to_numeric(t["residents_65_plus"], errors="coerce").to_numpy(float)
        with np.errstate(all="ignore"):
            split = np.clip(old, 0, res) / np.where(res > 0, res, np.nan)
        crude = np.where(np.isnan(split), p.mortality_per_100k,
                         split * p.mortality_per_100k_65_plus + (1 - split) * p.mortality_per_100k_under_65)
    else:
        crude = np.full(len(t), p.mortality_per_100k)
    crude_ihd = np.full(len(t), p.ihd_incidence_per_100k)
    if p.baseline == "crude":
        return crude, crude_ihd, 0
    mort = _age_rate(t, p.mortality_per_100k_by_age)
    ihd = _age_rate(t, p.ihd_incidence_per_100k_by_age)
    fallback = np.isnan(mort) & (res > 0)
    return np.where(np.isnan(mort), crude, mort), np.where(np.isnan(ihd), crude_ihd, ihd), int(fallback.sum())


def _baseline_deaths(t: pd.DataFrame, p: HealthImpactParams) -> np.ndarray:
    return t["residents"].to_numpy(float) * baseline_rates(t, p)[0] / 1e5


def _heat(p: HealthImpactParams, mode: str) -> tuple[tuple, float, float, float, float]:
    """(RR tuple, reference minutes/week, cap, age share, mortality per 100 000) of one mode."""
    return (getattr(p, f"heat_{mode}_rr"), getattr(p, f"heat_{mode}_ref_min_per_week"),
            getattr(p, f"heat_{mode}_cap"), getattr(p, f"heat_age_share_{mode}"),
            getattr(p, f"heat_mortality_per_100k_{mode}"))


def _active_modes(t: pd.DataFrame) -> list[str]:
    """Modes with active-travel uptake columns in ``t``; both columns of a mode, valid values."""
    modes, problems = [], []
    for mode in ACTIVE_MODES:
        share_col, min_col = f"active_{mode}_users_share", f"active_{mode}_min_per_week"
        has = [c in t.columns for c in (share_col, min_col)]
        if not any(has):
            continue
        if not all(has):
            problems.append(f"{share_col} and {min_col} go together; got only "
                            f"{share_col if has[0] else min_col}")
            continue
        share = pd.to_numeric(t[share_col], errors="coerce")
        minutes = pd.to_numeric(t[min_col], errors="coerce")
        if share.isna().any() or not share.between(0.0, 1.0).all():
            problems.append(f"{share_col} must be a share in [0, 1] at every point (0 where nobody takes up "
                            f"{mode}); got {int((share.isna() | ~share.between(0.0, 1.0)).sum())} bad value(s)")
        if minutes.isna().any() or (minutes < 0).any():
            problems.append(f"{min_col} must be >= 0 minutes per week at every point (0 where unchanged); got "
                            f"{int((minutes.isna() | (minutes < 0)).sum())} bad value(s)")
        modes.append(mode)
    if problems:
        raise InputDataError("residents_exposure: invalid active-travel columns (set them with "
                             "healthgeo.scenarios.apply_scenario):\n  - " + "\n  - ".join(problems))
    return modes


def _ward_paf(codes: np.ndarray, rr: np.ndarray, w: np.ndarray, index: pd.Index) -> pd.Series:
    """PAF per ward over its points (groups), NaN where no point has data."""
    ok = ~np.isnan(rr)
    df = pd.DataFrame({"code": codes[ok], "w": w[ok], "x": w[ok] * (rr[ok] - 1.0)})
    g = df.groupby("code", sort=False)[["w", "x"]].sum().reindex(index)
    x = g["x"] / g["w"].where(g["w"] > 0)
    return x / (x + 1.0)


def health_impact(
    residents_exposure: pd.DataFrame,
    *,
    level: str = "buurtcode",
    params: HealthImpactParams | None = None,
    wards: pd.Index | pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Attributable deaths, noise cases, DALYs and euros per ward (one row per ward code).

    Parameters
    ----------
    residents_exposure
        Per-point table (design.md ``residents_exposure``); exposure columns that are absent or
        NaN leave their outcomes NaN for wards without any data (see ``impact_reason``).
    level
        Code column to aggregate by: ``"buurtcode"`` or ``"wijkcode"``.
    params
        Model parameters; defaults of :class:`HealthImpactParams` when omitted.
    wards
        Ward index (or ward table) to align to; wards without residents points get zero burden.

    Returns
    -------
    (DataFrame indexed by ``level``, docs for every column)
    """
    p = params or HealthImpactParams()
    _check_table(residents_exposure, level)
    t = residents_exposure
    codes = t[level].astype(str).to_numpy()
    if wards is None:
        index = pd.Index(pd.unique(codes), name=level)
    else:
        index = pd.Index(wards.index if isinstance(wards, pd.DataFrame) else wards, name=level).astype(str)
        extra = sorted(set(codes) - set(index))
        if extra:
            raise InputDataError(f"residents_exposure has {level} codes not in wards: {extra[:5]}"
                                 f"{' ...' if len(extra) > 5 else ''}. Use the same ward vintage for both.")
    w = t["residents"].to_numpy(float)

    def col(name):
        return pd.to_numeric(t[name], errors="coerce").to_numpy(float) if name in t.columns else np.full(len(t), np.nan)

    def gsum(values) -> pd.Series:
        s = pd.Series(values, index=codes).groupby(level=0, sort=False).sum(min_count=1)
        return s.reindex(index)

    def has_data(values) -> pd.Series:
        return gsum(np.where(np.isnan(values), 0.0, 1.0)).fillna(0) > 0

    def note_partial(values, column: str) -> None:
        missing = gsum(np.where(np.isnan(values), w, 0.0)).fillna(0.0)
        share = missing / out["residents"].where(out["residents"] > 0)
        for code in share[(share > 0) & (share < 1)].index:
            reasons[code].append(f"{column} missing for {100 * share[code]:.0f} % of residents "
                                 "(outcomes scaled to all residents: same exposure distribution assumed)")

    out = pd.DataFrame(index=index)
    out["residents"] = gsum(w).fillna(0.0)
    mort_rate, ihd_rate, n_fallback = baseline_rates(t, p)
    if n_fallback:
        log.warning("baseline: %d of %d residents points have no age bands (residents_0_14 ... "
                    "residents_65_plus); the crude rates are used there", n_fallback, len(t))
    base_deaths = gsum(w * mort_rate / 1e5).fillna(0.0)
    scale = 1.0
    if p.registered_deaths_per_year is not None:
        total = float(base_deaths.sum())
        if total > 0:
            scale = p.registered_deaths_per_year / total
            log.info("baseline deaths scaled by %.4f so the %d wards sum to the %.0f registered deaths",
                     scale, len(base_deaths), p.registered_deaths_per_year)
        base_deaths = base_deaths * scale
    out["baseline_deaths_per_year"] = base_deaths
    base_ihd = gsum(w * ihd_rate / 1e5).fillna(0.0)
    out["baseline_ihd_cases_per_year"] = base_ihd
    reasons = pd.Series([[] for _ in range(len(index))], index=index, dtype=object)
    populated = out["residents"] > 0

    def note(mask: pd.Series, text: str) -> None:
        for code in mask[mask].index:
            reasons[code].append(text)

    # --- air pollution mortality ---
    for key, column, rr10, c0 in (("no2", "no2_ugm3", p.no2_rr10, p.no2_c0_ugm3),
                                  ("pm25", "pm25_ugm3", p.pm25_rr10, p.pm25_c0_ugm3)):
        c = col(column)
        avail = has_data(c)
        note(populated & ~avail, f"no {column} data")
        note_partial(c, column)
        for bound, rr_value in zip(BOUNDS, rr10):
            f = _ward_paf(codes, relative_risk(c, rr_value, c0), w, index)
            f = f.where(avail | ~populated, np.nan)
            if bound == "central":
                out[f"paf_{key}_central"] = f
            out[f"deaths_attr_{key}_per_year_{bound}"] = (f.fillna(0.0).where(avail | ~populated) * base_deaths)

    # --- road noise: annoyance and sleep (adults, banded) ---
    adults = w * p.adult_share
    lden, lnight = col("lden_db"), col("lnight_db")
    ha = adults * banded_pct(lden, pct_highly_annoyed_road, min_db=p.ha_lden_min_db,
                             max_db=p.ha_lden_max_db, band_db=p.noise_band_db) / 100.0
    hsd = adults * banded_pct(lnight, pct_highly_sleep_disturbed_road, min_db=p.hsd_lnight_min_db,
                              max_db=p.hsd_lnight_max_db, band_db=p.noise_band_db) / 100.0
    lden_ok, lnight_ok = has_data(lden), has_data(lnight)
    note(populated & ~lden_ok, "no lden_db data")
    note(populated & ~lnight_ok, "no lnight_db data")
    note_partial(lden, "lden_db")
    note_partial(lnight, "lnight_db")
    def scaled_count(cases, level_db, ok) -> pd.Series:
        # residents without a noise value are assumed to share the covered residents' distribution,
        # as the PAF-based outcomes (IHD, air) implicitly do: scale to all residents of the ward
        covered = gsum(np.where(np.isnan(level_db), 0.0, w)).fillna(0.0)
        factor = (out["residents"] / covered.where(covered > 0)).fillna(0.0)
        return (gsum(np.nan_to_num(cases)).fillna(0.0) * factor).where(ok | ~populated)

    out["adults_highly_annoyed_road"] = scaled_count(ha, lden, lden_ok)
    out["adults_highly_sleep_disturbed_road"] = scaled_count(hsd, lnight, lnight_ok)

    # --- road noise: IHD incidence ---
    for bound, rr_value in zip(BOUNDS, p.ihd_rr10):
        f = _ward_paf(codes, relative_risk(lden, rr_value, p.ihd_lden_c0_db), w, index)
        if bound == "central":
            out["paf_ihd_road_central"] = f.where(lden_ok | ~populated)
        out[f"ihd_cases_attr_road_noise_per_year_{bound}"] = f.fillna(0.0).where(lden_ok | ~populated) * base_ihd

    # --- physical activity (WHO HEAT): deaths averted among new walkers / cyclists (scenarios only) ---
    active = _active_modes(t)
    for mode in active:
        rr_mode, ref_min, cap, age_share, mort = _heat(p, mode)
        # baseline deaths per year among the new users of the HEAT age group
        at_risk = w * col(f"active_{mode}_users_share") * age_share * mort / 1e5
        minutes = col(f"active_{mode}_min_per_week")
        for bound, rr_value in zip(BOUNDS, rr_mode):
            averted = gsum(at_risk * heat_risk_reduction(minutes, rr_value, ref_min, cap)).fillna(0.0)
            out[f"deaths_averted_active_{mode}_per_year_{bound}"] = averted
            out[f"dalys_averted_active_{mode}_per_year_{bound}"] = averted * p.yll_per_death

    # --- DALYs ---
    yld_ha = out["adults_highly_annoyed_road"] * p.dw_highly_annoyed * p.duration_years
    yld_hsd = out["adults_highly_sleep_disturbed_road"] * p.dw_highly_sleep_disturbed * p.duration_years
    out["dalys_ha_road_per_year"] = yld_ha
    out["dalys_hsd_road_per_year"] = yld_hsd
    price = p.voly_eur_indexed
    for bound in BOUNDS:
        d_no2 = out[f"deaths_attr_no2_per_year_{bound}"] * p.yll_per_death
        d_pm = out[f"deaths_attr_pm25_per_year_{bound}"] * p.yll_per_death
        d_ihd = out[f"ihd_cases_attr_road_noise_per_year_{bound}"] * p.dw_ihd * p.ihd_duration_years
        out[f"dalys_no2_per_year_{bound}"] = d_no2
        out[f"dalys_pm25_per_year_{bound}"] = d_pm
        out[f"dalys_ihd_road_per_year_{bound}"] = d_ihd
        parts = {"ihd_road": d_ihd, "ha_road": yld_ha, "hsd_road": yld_hsd}
        parts.update({"pm25": d_pm} if "pm25" in p.air_in_total else {})
        parts.update({"no2": d_no2} if "no2" in p.air_in_total else {})
        # a component without data anywhere in this run is left out (and named in the docs); one
        # missing for some wards only makes those wards' totals NaN rather than silently smaller
        present = {k: v for k, v in parts.items() if v[populated].notna().any()}
        excluded_from_total = sorted(set(parts) - set(present))
        total = (pd.concat(list(present.values()), axis=1).sum(axis=1, min_count=len(present))
                 if present else pd.Series(np.nan, index=out.index))
        for mode in active:  # net of the burden averted by new walking / cycling
            total = total - out[f"dalys_averted_active_{mode}_per_year_{bound}"]
        out[f"dalys_total_per_year_{bound}"] = total
        cases_eur = (out["adults_highly_annoyed_road"].fillna(0) * p.eur_per_case_highly_annoyed
                     + out["adults_highly_sleep_disturbed_road"].fillna(0) * p.eur_per_case_highly_sleep_disturbed
                     + out[f"ihd_cases_attr_road_noise_per_year_{bound}"].fillna(0) * p.eur_per_case_ihd
                     ) * p.price_factor
        out[f"eur_total_per_year_{bound}"] = total * price + cases_eur

    out["impact_reason"] = reasons.map(lambda r: "; ".join(r) if r else None)
    out.loc[~populated, "impact_reason"] = "no residents"
    out.index.name = level
    docs = _docs(p, level, active, deaths_scale=scale, n_fallback=n_fallback)
    if excluded_from_total:
        note_txt = f" Left out (no data in this run): {', '.join(excluded_from_total)}."
        for key in [k for k in docs if k.startswith(("dalys_total_", "eur_total_"))]:
            docs[key] = dataclasses.replace(docs[key], method=docs[key].method + note_txt)
    return out, docs


ADDITIVE_PREFIXES = ("residents", "baseline_", "deaths_", "adults_", "ihd_", "dalys_", "eur_")


def is_averted_column(column: str) -> bool:
    """A benefit column (deaths/DALYs averted) that only scenario tables have; baseline value 0."""
    return column.startswith(AVERTED_PREFIXES)


def additive_columns(df: pd.DataFrame) -> list[str]:
    """Columns of a :func:`health_impact` table that may be summed over wards."""
    return [c for c in df.columns if c.startswith(ADDITIVE_PREFIXES) and pd.api.types.is_numeric_dtype(df[c])]


def aggregate_impact(buurt_table: pd.DataFrame, parent: pd.Series, index: pd.Index,
                     docs: Mapping[str, ColumnDoc]) -> tuple[pd.DataFrame, dict[str, ColumnDoc]]:
    """Wijk or gemeente burden as the *sum* of its buurten, so every level adds up.

    The PAF is not linear in exposure, so computing it afresh over a wijk's residents gives a
    slightly different count than the sum of its buurten (by < 1 % in the demo); a dashboard
    expects wijk = sum of buurten and gemeente = sum of wijken, so counts, DALYs and euros are
    summed (NaN when a populated buurt has NaN, as for the ward totals) and each ``paf_*`` is
    attributable / baseline cases of the sum. ``parent`` maps buurt code -> parent code.
    See docs/methods.md#aggregation-of-impacts.
    """
    t = buurt_table.copy()
    t["_parent"] = parent.reindex(t.index).to_numpy()
    if t["_parent"].isna().any():
        missing = list(t.index[t["_parent"].isna()][:5])
        raise InputDataError(f"aggregate_impact: buurten without a parent code: {missing}")
    add = [c for c in additive_columns(buurt_table) if c != "residents"]
    if "residents" in t.columns:
        add = ["residents", *add]
    g = t.groupby("_parent")
    out = g[add].sum(min_count=1)
    out = out.where(g[add].count() == g.size().to_numpy()[:, None])  # a NaN buurt makes the sum NaN
    paf_of = {"paf_no2_central": ("deaths_attr_no2_per_year_central", "baseline_deaths_per_year"),
              "paf_pm25_central": ("deaths_attr_pm25_per_year_central", "baseline_deaths_per_year"),
              "paf_ihd_road_central": ("ihd_cases_attr_road_noise_per_year_central", "baseline_ihd_cases_per_year")}
    for col, (num, den) in paf_of.items():
        if col in buurt_table.columns and num in out and den in out:
            out[col] = out[num] / out[den].where(out[den] > 0)
    if "impact_reason" in t.columns:
        def reasons(s: pd.Series):
            r = s.dropna()
            return None if r.empty else f"{len(r)} buurt(en): " + "; ".join(sorted(set(r)))[:500]
        out["impact_reason"] = g["impact_reason"].agg(reasons)
    out = out.reindex(index)
    out.index.name = index.name
    cols = [c for c in buurt_table.columns if c in out.columns]
    out = out[cols]
    new_docs = {}
    for c in cols:
        d = docs[c]
        how = ("attributable / baseline cases of the summed buurten" if c in paf_of
               else "the buurt values, with counts" if c == "impact_reason" else "sum of its buurten' values")
        new_docs[c] = dataclasses.replace(d, method=f"{d.method}; at this level: {how}" if d.method else how)
    return out, new_docs


def impact_totals(df: pd.DataFrame) -> pd.Series:
    """Municipal totals: the sum over wards of every additive column (NaN wards skipped)."""
    return df[additive_columns(df)].sum(axis=0, min_count=1)


def _baseline_methods(p: HealthImpactParams, deaths_scale: float = 1.0, n_fallback: int = 0) -> tuple[str, str]:
    """Method texts of the baseline deaths and IHD cases (which rates, any scaling)."""
    if p.baseline == "age_specific":
        bands = lambda r: ", ".join(f"{b.replace('_plus', '+').replace('_', '-')} {r[b]:g}" for b in AGE_BANDS)  # noqa: E731
        base = ("age-specific (docs/methods.md#baseline-rates): sum over CBS age bands of residents in the band x "
                f"the band's natural-cause deaths per 100 000 ({bands(p.mortality_per_100k_by_age)})")
        ihd = f"age-specific: sum over CBS age bands of residents x IHD incidence per 100 000 ({bands(p.ihd_incidence_per_100k_by_age)})"
        if n_fallback:
            fb = f"; {n_fallback} residents point(s) without age bands use the crude rate"
            base, ihd = base + fb, ihd + fb
    else:
        base = ("crude: " + (f"residents x {p.mortality_per_100k}/100 000" if p.mortality_per_100k_65_plus is None else
                f"residents 65+ x {p.mortality_per_100k_65_plus}/100 000 + residents <65 x "
                f"{p.mortality_per_100k_under_65}/100 000"))
        ihd = f"crude: residents x {p.ihd_incidence_per_100k}/100 000"
    if p.registered_deaths_per_year is not None:
        base += (f"; then scaled by {deaths_scale:.4f} so that the wards sum to the municipality's "
                 f"{p.registered_deaths_per_year:g} registered natural-cause deaths (impact.registered_deaths_per_year)")
    return base, ihd


def _docs(p: HealthImpactParams, level: str, active: tuple | list = (), *, deaths_scale: float = 1.0,
          n_fallback: int = 0) -> dict[str, ColumnDoc]:
    voly = (f"VOLY EUR {p.voly_eur:,.0f} ({p.voly_price_year} prices) x price index "
            f"{p.price_year}/{p.voly_price_year} = {p.price_factor:.4f}")
    air_src = {"no2": f"{WHO_AQG_2021}; {HUANGFU_ATKINSON_2020}", "pm25": f"{WHO_AQG_2021}; {CHEN_HOEK_2020}"}
    rr = {"no2": p.no2_rr10, "pm25": p.pm25_rr10}
    c0 = {"no2": p.no2_c0_ugm3, "pm25": p.pm25_c0_ugm3}
    base, ihd_base = _baseline_methods(p, deaths_scale, n_fallback)
    d: dict[str, ColumnDoc] = {
        "residents": doc("persons", f"Residents in the {level} (sum of residents-point weights)",
                         "sum over residents points", "healthgeo.population"),
        "baseline_deaths_per_year": doc("deaths/year", "Baseline natural-cause deaths", base,
                                        CBS_DEATHS_AGE_2023 if p.baseline == "age_specific" else CBS_DEATHS_NATURAL),
        "baseline_ihd_cases_per_year": doc("cases/year", "Baseline incident ischaemic heart disease cases",
                                           ihd_base, VZINFO_CHD),
        "impact_reason": doc("text", "Why outcomes are NaN or zero (missing exposure data, no residents)"),
        "adults_highly_annoyed_road": doc(
            "persons", "Adults highly annoyed by road-traffic noise (prevalent)",
            f"sum over {p.noise_band_db:g} dB Lden bands from {p.ha_lden_min_db:g} dB of adults x "
            f"%HA(band centre)/100, %HA = 78.9270 - 3.1162 L + 0.0342 L^2 (centres above {p.ha_lden_max_db} dB "
            f"evaluated there); adults = residents x {p.adult_share}. No confidence interval is "
            "published for the curve: central only", f"{WHO_ENG_2018}; {EU_2020_367}; {GUSKI_2017}"),
        "adults_highly_sleep_disturbed_road": doc(
            "persons", "Adults highly sleep-disturbed by road-traffic noise (prevalent)",
            f"sum over {p.noise_band_db:g} dB Lnight bands from {p.hsd_lnight_min_db:g} dB of adults x "
            f"%HSD(band centre)/100, %HSD = 19.4312 - 0.9336 L + 0.0126 L^2 (centres above "
            f"{p.hsd_lnight_max_db} dB evaluated there); central only (no published CI)",
            f"{WHO_ENG_2018}; {EU_2020_367}; {BASNER_MCGUIRE_2018}"),
        "paf_ihd_road_central": doc("fraction", "Population attributable fraction of IHD incidence, road noise",
                                    f"sum p_i(RR_i-1)/(sum p_i(RR_i-1)+1), RR = exp(ln({p.ihd_rr10[0]})/10 (Lden-"
                                    f"{p.ihd_lden_c0_db:g})) for Lden > {p.ihd_lden_c0_db:g}",
                                    f"{EU_2020_367}; {VAN_KEMPEN_2018}"),
        "dalys_ha_road_per_year": doc("DALY/year", "YLD from high annoyance (road)",
                                      f"highly annoyed x DW {p.dw_highly_annoyed} x {p.duration_years} y",
                                      WHO_BOD_NOISE_2011),
        "dalys_hsd_road_per_year": doc("DALY/year", "YLD from high sleep disturbance (road)",
                                       f"highly sleep-disturbed x DW {p.dw_highly_sleep_disturbed} x "
                                       f"{p.duration_years} y", WHO_BOD_NOISE_2011),
    }
    for key in ("no2", "pm25"):
        name = {"no2": "NO2", "pm25": "PM2.5"}[key]
        d[f"paf_{key}_central"] = doc(
            "fraction", f"Population attributable fraction of natural-cause mortality, {name}",
            f"sum p_i(RR_i-1)/(sum p_i(RR_i-1)+1) over residents points, RR = exp(ln({rr[key][0]}) (c-"
            f"{c0[key]:g})/10) for c > {c0[key]:g} ug/m3", air_src[key])
        for i, bound in enumerate(BOUNDS):
            d[f"deaths_attr_{key}_per_year_{bound}"] = doc(
                "deaths/year", f"Natural-cause deaths attributable to {name} above {c0[key]:g} ug/m3 ({bound})",
                f"PAF x baseline deaths, RR10 = {rr[key][i]} ({bound} of {rr[key]})", air_src[key])
            d[f"dalys_{key}_per_year_{bound}"] = doc(
                "DALY/year", f"YLL from {name}-attributable deaths ({bound})",
                f"deaths x {p.yll_per_death} years of life lost per death (verify)", air_src[key])
    for i, bound in enumerate(BOUNDS):
        d[f"ihd_cases_attr_road_noise_per_year_{bound}"] = doc(
            "cases/year", f"Incident IHD cases attributable to road noise above {p.ihd_lden_c0_db:g} dB Lden ({bound})",
            f"PAF x baseline IHD incidence, RR10 = {p.ihd_rr10[i]} ({bound} of {p.ihd_rr10}, 95 % CI)",
            f"{EU_2020_367}; {VAN_KEMPEN_2018}")
        d[f"dalys_ihd_road_per_year_{bound}"] = doc(
            "DALY/year", f"YLD from road-noise IHD ({bound})",
            f"cases x DW {p.dw_ihd} (verify) x {p.ihd_duration_years} y", f"{WHO_BOD_NOISE_2011}; {EU_2020_367}")
        d[f"dalys_total_per_year_{bound}"] = doc(
            "DALY/year", f"Total attributable DALYs ({bound})",
            f"sum of {', '.join(p.air_in_total)} YLL + IHD + HA + HSD YLD; low/high vary only the RR-based "
            "outcomes (HA/HSD have no published CI); PM2.5 and NO2 overlap partly (possible double counting)",
            f"{WHO_AQG_2021}; {WHO_ENG_2018}; {EU_2020_367}")
        d[f"eur_total_per_year_{bound}"] = doc(
            f"EUR/year ({p.price_year} prices)", f"Social cost of the attributable burden ({bound})",
            f"DALYs x {voly} + cases x value per case (HA {p.eur_per_case_highly_annoyed}, HSD "
            f"{p.eur_per_case_highly_sleep_disturbed}, IHD {p.eur_per_case_ihd})", EU_HANDBOOK_2019)
    if active:
        _active_docs(d, p, active)
    return {k: _with_meta(k, v) for k, v in d.items()}


#: labels (en, nl) of the impact columns by stem (the part before _per_year / _central / bound)
_IMPACT_LABELS = {
    "baseline_deaths": ("baseline deaths", "sterfte (basis)"),
    "baseline_ihd_cases": ("baseline IHD cases", "nieuwe gevallen IHZ (basis)"),
    "adults_highly_annoyed_road": ("highly annoyed by road noise", "ernstig gehinderd door wegverkeer"),
    "adults_highly_sleep_disturbed_road": ("highly sleep-disturbed by road noise", "ernstig slaapverstoord door wegverkeer"),
    "paf_ihd_road": ("attributable fraction IHD, road noise", "toeschrijfbare fractie IHZ, wegverkeer"),
    "dalys_ha_road": ("DALYs from noise annoyance", "DALY's door geluidhinder"),
    "dalys_hsd_road": ("DALYs from noise sleep disturbance", "DALY's door slaapverstoring"),
    "paf_no2": ("attributable fraction, NO2", "toeschrijfbare fractie, NO2"),
    "paf_pm25": ("attributable fraction, PM2.5", "toeschrijfbare fractie, PM2.5"),
    "deaths_attr_no2": ("deaths attributable to NO2", "sterfte door NO2"),
    "deaths_attr_pm25": ("deaths attributable to PM2.5", "sterfte door PM2.5"),
    "dalys_no2": ("DALYs from NO2", "DALY's door NO2"),
    "dalys_pm25": ("DALYs from PM2.5", "DALY's door PM2.5"),
    "ihd_cases_attr_road_noise": ("IHD cases from road noise", "IHZ-gevallen door wegverkeerslawaai"),
    "dalys_ihd_road": ("DALYs from road-noise IHD", "DALY's door IHZ (wegverkeer)"),
    "dalys_total": ("total attributable DALYs", "totaal toeschrijfbare DALY's"),
    "eur_total": ("social cost of the burden", "maatschappelijke kosten"),
    "deaths_averted_active_walk": ("deaths averted by walking", "vermeden sterfte door lopen"),
    "deaths_averted_active_bike": ("deaths averted by cycling", "vermeden sterfte door fietsen"),
    "dalys_averted_active_walk": ("DALYs averted by walking", "vermeden DALY's door lopen"),
    "dalys_averted_active_bike": ("DALYs averted by cycling", "vermeden DALY's door fietsen"),
}
_BOUND_LABELS = {"low": ("low", "laag"), "central": ("central", "centraal"), "high": ("high", "hoog")}


def _with_meta(column: str, d: ColumnDoc) -> ColumnDoc:
    """Catalog metadata of an impact column (theme, scale, direction, labels)."""
    if column == "residents":
        return d.replace(theme="keyfigures", scale="count", label_en="residents (points)", label_nl="inwoners (punten)")
    if column == "impact_reason":
        return d.replace(theme="quality", scale="text", label_en="impact: reason missing",
                         label_nl="gezondheidseffect: reden ontbreken")
    bound = next((b for b in BOUNDS if column.endswith(f"_{b}")), "")
    stem = column.removesuffix(f"_{bound}" if bound else "").removesuffix("_per_year")
    en, nl = _IMPACT_LABELS.get(stem, (stem.replace("_", " "), stem.replace("_", " ")))
    if bound and bound != "central":
        en, nl = f"{en} ({_BOUND_LABELS[bound][0]})", f"{nl} ({_BOUND_LABELS[bound][1]})"
    scale = ("fraction" if column.startswith("paf_") else "money" if column.startswith("eur_")
             else "count" if column.startswith("adults_") else "rate")
    worse = False if "_averted_" in column else None if column.startswith("baseline_") else True
    return d.replace(theme="impact", scale=scale, higher_is_worse=worse, label_en=en, label_nl=nl)


def _active_docs(d: dict[str, ColumnDoc], p: HealthImpactParams, active) -> None:
    """Docs of the deaths/DALYs averted by active travel; the totals are documented as net of them."""
    names = {"walk": ("walking", "20-74"), "bike": ("cycling", "20-64")}
    for mode in active:
        rr_mode, ref_min, cap, age_share, mort = _heat(p, mode)
        what, ages = names[mode]
        for i, bound in enumerate(BOUNDS):
            formula = (f"sum over residents points of residents x active_{mode}_users_share x {age_share} (share "
                       f"aged {ages}) x {mort:g}/100 000 (all-cause mortality aged {ages}) x risk reduction; "
                       f"risk reduction = min((1 - {rr_mode[i]}) x active_{mode}_min_per_week / {ref_min:g}, {cap:g}) "
                       f"(WHO HEAT; RR {rr_mode[i]} = {bound} of {rr_mode}, 95 % CI: the low RR gives the larger "
                       f"benefit; cap {cap:g} (verify)); the minutes are the users' added {what}, credited "
                       "in full (no baseline activity of that mode assumed)")
            d[f"deaths_averted_active_{mode}_per_year_{bound}"] = doc(
                "deaths/year", f"All-cause deaths averted per year by new {what} ({bound}; positive = gain)",
                formula, f"{KELLY_2014}; {WHO_HEAT_AT}; {CBS_DEATHS_AGE_2019}")
            d[f"dalys_averted_active_{mode}_per_year_{bound}"] = doc(
                "DALY/year", f"YLL averted per year by new {what} ({bound}; positive = gain)",
                f"deaths averted x {p.yll_per_death} years of life lost per death (verify)",
                f"{KELLY_2014}; {WHO_HEAT_AT}")
    for bound in BOUNDS:
        minus = " minus " + " and ".join(f"dalys_averted_active_{m}_per_year_{bound}" for m in active)
        for key in (f"dalys_total_per_year_{bound}", f"eur_total_per_year_{bound}"):
            old = d[key]
            d[key] = dataclasses.replace(
                old, description=old.description + ", net of the burden averted by active travel",
                method=old.method + f"; net: DALYs{minus} (WHO HEAT physical-activity benefit)",
                source=f"{old.source}; {KELLY_2014}; {WHO_HEAT_AT}")
