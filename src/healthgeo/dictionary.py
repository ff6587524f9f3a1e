"""Column documentation: every output column carries unit, description, method and source.

Library functions that produce indicator columns also return their documentation as a
``dict[column name, ColumnDoc]``. Tables travel with their docs (see
:func:`healthgeo.io.write_table`), and :mod:`healthgeo.assemble` writes them into the
GeoPackage's ``data_dictionary`` table, refusing any column that has none.
"""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass

# Citations used across modules; full references (authors, title, journal, DOI) are in
# docs/methods.md#references, and each method is explained in its section of docs/methods.md.
WHO_AQG_2021 = "WHO Global Air Quality Guidelines (2021)"
WHO_ENG_2018 = "WHO Environmental Noise Guidelines for the European Region (2018)"
EU_2020_367 = "Commission Directive (EU) 2020/367, Annex III (2020)"
WHO_GREEN_2017 = "WHO Europe, Urban green spaces: a brief for action (2017)"
KONIJNENDIJK_2023 = ("Konijnendijk (2023), Evidence-based guidelines for greener, healthier, more resilient "
                     "neighbourhoods: introducing the 3-30-300 rule, J. For. Res. 34:821-830")
EXACTEXTRACT = "Coverage-fraction zonal statistics as in exactextract (isciences/exactextract)"
ODONNELL_2008 = "O'Donnell et al. (2008), Analyzing Health Equity Using Household Survey Data, World Bank"
ERREYGERS_2009 = "Erreygers (2009), Correcting the concentration index, J. Health Econ. 28:504-515"
WHO_HEAT_NOTES = "WHO Health Equity Assessment Toolkit (HEAT) technical notes; Schlotheuber & Hosseinpoor (2022)"
CALENVIROSCREEN_4 = "OEHHA (2021), CalEnviroScreen 4.0 report"
GHSCI = "Global Healthy & Sustainable City Indicators (GHSCI) methods; Boeing et al. (2022), Lancet Glob Health"
CHEN_HOEK_2020 = "Chen & Hoek (2020), Environ. Int. 143:105974 (PM2.5 long-term mortality)"
HUANGFU_ATKINSON_2020 = "Huangfu & Atkinson (2020), Environ. Int. 144:105998 (NO2 long-term mortality)"
CBS_KWB = "CBS Kerncijfers wijken en buurten"
RIVM_GEZONDHEID = "RIVM/CBS/GGD Gezondheid per wijk en buurt (Gezondheidsmonitor small-area estimates)"


#: What a column describes. Drives statistical disclosure control (see :mod:`healthgeo.disclosure`):
#: ``residents`` values are withheld for wards under the threshold, ``area`` and ``identity``
#: values are always published.
ABOUT = ("residents", "area", "identity")
#: How a value is scaled (drives report classes, dashboard formatting, integer storage).
SCALES = ("", "fraction", "percent", "count", "db", "concentration", "distance", "duration", "area",
          "density", "index", "rank", "score", "category", "text", "flag", "money", "rate", "temperature")
#: Themes group indicators in the catalog, report and burden.
THEMES = ("", "identity", "keyfigures", "air", "noise", "green", "access", "health", "disparity",
          "burden", "impact", "typology", "scenario", "quality", "heat", "requirements",
          "trend")


@dataclass(frozen=True)
class ColumnDoc:
    """Documentation of one output column, written where the column is made.

    Beyond unit/description/method/source (the ``data_dictionary``), the metadata that the rest
    of the pipeline reads instead of hand-kept lists:

    theme
        Indicator family (one of :data:`THEMES`); groups the catalog, report and burden.
    higher_is_worse
        Direction for disparity and burden: True (pollution), False (green, access), None
        (not an indicator with a direction).
    about
        ``residents`` (a value about the ward's residents: withheld under disclosure control),
        ``area`` (describes the area: always published) or ``identity`` (codes, names).
    label_en, label_nl
        Short labels for maps, charts and dashboards.
    scale
        One of :data:`SCALES`.
    thresholds
        Reference values as ``((value, label, source), ...)``, e.g. WHO guideline and interim
        targets; used for classes in the report and styles.
    burden_group
        Component of the cumulative burden this column enters (``""``: none).
    """

    unit: str
    description: str
    method: str = ""
    source: str = ""
    theme: str = ""
    higher_is_worse: bool | None = None
    about: str = "residents"
    label_en: str = ""
    label_nl: str = ""
    scale: str = ""
    thresholds: tuple = ()
    burden_group: str = ""

    def __post_init__(self):
        if self.about not in ABOUT:
            raise ValueError(f"ColumnDoc.about must be one of {ABOUT}, not {self.about!r}")
        if self.scale not in SCALES:
            raise ValueError(f"ColumnDoc.scale must be one of {SCALES}, not {self.scale!r}")
        if self.theme not in THEMES:
            raise ValueError(f"ColumnDoc.theme must be one of {THEMES}, not {self.theme!r}")
        # JSON round trips give lists: keep thresholds hashable and comparable
        object.__setattr__(self, "thresholds", tuple(tuple(t) for t in self.thresholds))

    def as_dict(self) -> dict:
        return asdict(self)

    def replace(self, **changes) -> "ColumnDoc":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)


def doc(unit: str, description: str, method: str = "", source: str = "", **meta) -> ColumnDoc:
    """Shorthand constructor for :class:`ColumnDoc` (``meta``: theme, higher_is_worse, about, ...)."""
    return ColumnDoc(unit=unit, description=description, method=method, source=source, **meta)


def delta_doc(base: ColumnDoc | None, unit: str, description: str, method: str = "", source: str = "") -> ColumnDoc:
    """Doc of a scenario's ``delta_<column>``: what it is about, its scale, direction and labels
    follow the base column's doc (a change in an area value is about the area, too)."""
    if base is None:
        return doc(unit, description, method, source, theme="scenario")
    return doc(unit, description, method, source, theme="scenario", about=base.about, scale=base.scale,
               higher_is_worse=base.higher_is_worse,
               label_en=f"change in {base.label_en}" if base.label_en else "",
               label_nl=f"verandering {base.label_nl}" if base.label_nl else "")
