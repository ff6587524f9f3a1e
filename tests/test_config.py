"""Config validation: unknown keys, wrong types and unknown municipalities fail before any work."""

from pathlib import Path

import pytest
import yaml

from healthgeo._errors import ConfigError
from healthgeo.config import input_spec, load_config, schema, validate

REPO = Path(__file__).resolve().parents[1]


def _demo():
    return yaml.safe_load((REPO / "config" / "config.yaml").read_text())


def test_default_config_is_valid_and_defaults_are_filled():
    cfg = _demo()
    del cfg["area"]["margin_m"]
    del cfg["demo"]
    out = validate(cfg)
    assert out["area"]["margin_m"] == 2000
    assert out["demo"]["seed"] == 42
    assert "margin_m" not in cfg["area"], "validate must not mutate its argument"


@pytest.mark.parametrize("name", ["config.yaml", "utrecht.yaml", "utrecht_offline.yaml"])
def test_shipped_configs_are_valid(name):
    load_config(REPO / "config" / name)


def test_unknown_key_is_named_with_allowed_keys_and_suggestion():
    cfg = _demo()
    cfg["area"]["munincipality"] = "GM0344"
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    msg = str(e.value)
    assert "area.munincipality" in msg and "did you mean 'municipality'" in msg
    assert "['crs', 'margin_m', 'municipalities', 'municipality', 'year']" in msg


def test_wrong_type_names_key_and_expected_type():
    cfg = _demo()
    cfg["area"]["year"] = "2023"
    with pytest.raises(ConfigError, match=r"area\.year: expected integer, got str '2023'"):
        validate(cfg)


def test_unknown_municipality_is_refused_with_close_matches():
    cfg = _demo()
    cfg["area"]["municipality"] = "GM0343"
    with pytest.raises(ConfigError, match=r"unknown CBS municipality code 'GM0343'.*GM0344"):
        validate(cfg)


def test_input_needs_exactly_one_of_provider_or_file():
    cfg = _demo()
    cfg["inputs"]["no2"] = {"file": "x.asc", "provider": "rivm_gcn"}
    with pytest.raises(ConfigError, match=r"inputs\.no2: give exactly one of `provider` or `file`"):
        validate(cfg)


def test_unknown_provider_lists_allowed():
    cfg = _demo()
    cfg["inputs"]["no2"] = {"provider": "rivm_gnc"}
    with pytest.raises(ConfigError, match=r"unknown provider 'rivm_gnc'; allowed: \[.*'rivm_gcn'"):
        validate(cfg)


def test_all_problems_reported_at_once():
    cfg = _demo()
    cfg["bogus"] = 1
    cfg["inputs"]["health"]["age"] = "99"
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    assert "'bogus'" in str(e.value) and "inputs.health.age" in str(e.value)


def test_every_schema_key_is_described():
    def walk(node, path):
        if isinstance(node, dict):
            for key, sub in node.get("properties", {}).items():
                assert "description" in sub or "$ref" in sub, f"{path}.{key} has no description"
                walk(sub, f"{path}.{key}")
            for key, sub in node.get("$defs", {}).items():
                walk(sub, f"$defs.{key}")

    walk(schema(), "")


def test_input_spec_defaults_year_for_providers_only():
    cfg = validate(_demo())
    assert "year" not in input_spec(cfg, "pm25")  # a local file without {year}
    assert input_spec(cfg, "no2")["year"] == 2023  # the demo's per-year NO2 grid: its base year
    cfg["inputs"]["no2"] = {"provider": "rivm_gcn"}
    cfg = validate(cfg)
    assert input_spec(cfg, "no2")["year"] == 2023
    assert input_spec(cfg, "population_grid") is None


def test_scenario_and_impact_problems_are_reported():
    cfg = _demo()
    cfg["scenarios"] = [
        {"name": "a", "type": "no2_reduction", "params": {"percent": 150}, "where": {"wijk": ["WK999901"]}},
        {"name": "a", "type": "no2_reduction", "params": {"percent": 10}, "where": {"wijk": ["WK999901"]}},
    ]
    cfg["impact"] = {"voly_eur": "a lot"}
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    msg = str(e.value)
    assert "impact.voly_eur: expected number" in msg
    cfg["impact"] = {}
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    msg = str(e.value)
    assert "scenarios[0]" in msg and "percent" in msg and "duplicate names ['a']" in msg


def test_activity_blocks_in_scenarios():
    cfg = _demo()
    path = next(s for s in cfg["scenarios"] if s["name"] == "new_cycle_path")
    del path["params"]["activity"]["catchment_m"]
    cfg["scenarios"].append({"name": "fietsstimulering", "type": "active_travel", "where": {"wijk": ["WK999901"]},
                             "params": {"mode": "bike", "users_share": 0.05, "minutes_per_week": 60}})
    out = validate(cfg)
    assert next(s for s in out["scenarios"] if s["name"] == "new_cycle_path")["params"]["activity"]["catchment_m"] == 500
    cfg["scenarios"][-1]["params"] = {"mode": "car", "users_share": 1.5}
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    assert "'car' is not allowed" in str(e.value) and "greater than the maximum of 1" in str(e.value)
    cfg["scenarios"][-1]["params"] = {"mode": "walk", "users_share": 0.1}
    with pytest.raises(ConfigError, match="minutes_per_week must be a number > 0"):
        validate(cfg)


def test_municipality_must_exist_in_the_configured_year():
    cfg = _demo()
    cfg["area"]["municipality"] = "GM0398"  # Heerhugowaard, merged into Dijk en Waard in 2022
    cfg.pop("scenarios", None)  # their ward codes are the demo city's
    with pytest.raises(ConfigError, match=r"GM0398 \(Heerhugowaard\) is not a municipality in 2023"):
        validate(cfg)
    cfg["area"]["year"] = 2020
    validate(cfg)


def test_disparity_burden_reference_key():
    cfg = _demo()
    assert validate(cfg)["disparity"]["burden_reference"] is None  # default: the run itself
    cfg.setdefault("disparity", {})["burden_reference"] = "data/processed/utrecht_2023/healthgeo.gpkg"
    assert validate(cfg)["disparity"]["burden_reference"].endswith("healthgeo.gpkg")
    cfg["disparity"]["burden_reference"] = 2023
    with pytest.raises(ConfigError, match=r"disparity\.burden_reference: expected"):
        validate(cfg)
    desc = schema()["properties"]["disparity"]["properties"]["burden_reference"]["description"]
    assert "burden_reference layer" in desc and "CSV" in desc


def test_disparity_indicator_names_fit_derived_column_limit():
    cfg = _demo()
    cfg.setdefault("disparity", {})["indicators"] = ["x" * 47]
    validate(cfg)  # conc_index_<47>_lo95 = 63 characters
    cfg["disparity"]["indicators"] = ["x" * 48]
    with pytest.raises(ConfigError, match=r"disparity\.indicators\.0: .* is too long"):
        validate(cfg)


def test_scenario_ward_codes_must_belong_to_the_municipality():
    cfg = _demo()
    cfg["scenarios"][0]["where"] = {"wijk": ["WK034401", "WK9999", "BU99990101"]}
    cfg["scenarios"][1]["where"] = {"buurt": ["BU99990101", "BU999901"]}
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    msg = str(e.value)
    assert "scenarios[0] (no_change).where.wijk: ['WK034401', 'WK9999', 'BU99990101'] are not wijk codes of GM9999" in msg
    assert "scenarios[1] (no2_minus_20pct_wijk01).where.buurt: ['BU999901'] are not buurt codes" in msg
    assert "use codes like WK999901" in msg


def test_provider_years_without_a_table_and_future_years_fail_before_any_work():
    cfg = _demo()
    cfg["inputs"]["health"] = {"provider": "rivm_gezondheid", "year": 2021}
    cfg["inputs"]["kerncijfers"] = {"provider": "cbs_odata", "year": 2099}
    with pytest.raises(ConfigError) as e:
        validate(cfg)
    msg = str(e.value)
    assert "inputs.health: provider rivm_gezondheid has no table for 2021; published years: [2012, 2016, 2020, 2022, 2024]" in msg
    assert "inputs.kerncijfers.year: 2099 lies in the future" in msg
    cfg["inputs"]["health"] = {"provider": "rivm_gezondheid", "year": 2021, "options": {"table": "50120NED"}}
    cfg["inputs"]["kerncijfers"] = {"provider": "cbs_odata", "year": 2023}
    validate(cfg)
