"""Column documentation: every output column carries unit, description, method and source.

Library functions that produce indicator columns also return their documentation as a
``dict[column name, ColumnDoc]``. Tables travel with their docs (see
:func:`healthgeo.io.write_table`), and :mod:`healthgeo.assemble` writes them into the
GeoPackage's ``data_dictionary`` table, refusing any column that has none.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Citations used across modules (see ../shared/METHODS.md and docs/data_dictionary.md)
WHO_AQG_2021 = "WHO Global Air Quality Guidelines (2021)"
WHO_ENG_2018 = "WHO Environmental Noise Guidelines for the European Region (2018)"
EU_2020_367 = "Commission Directive (EU) 2020/367, Annex III (2020)"
WHO_GREEN_2017 = "WHO Europe, Urban green spaces: a brief for action (2017)"
KONIJNENDIJK_2023 = "Konijnendijk (2023), Evidence-based guidelines for greener, healthier cities: the 3-30-300 rule, J. For. Res."
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


@dataclass(frozen=True)
class ColumnDoc:
    """Documentation of one output column."""

    unit: str
    description: str
    method: str = ""
    source: str = ""

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def doc(unit: str, description: str, method: str = "", source: str = "") -> ColumnDoc:
    """Shorthand constructor for :class:`ColumnDoc`."""
    return ColumnDoc(unit=unit, description=description, method=method, source=source)
