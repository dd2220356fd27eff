import datetime as dt

import pytest

from mutasi_rules.data.facts import elapsed_years, fact_schema
from mutasi_rules.data.models import Golongan, parse_nip


def test_nip_parts():
    parts = parse_nip("198503122010011002")
    assert parts.birth_date == dt.date(1985, 3, 12)
    assert (parts.tmt_cpns_year, parts.tmt_cpns_month) == (2010, 1)
    assert parts.gender.value == "L"


@pytest.mark.parametrize("nip", ["19850312201001100", "198502302010011002", "198503122010131002", "198503122010013002"])
def test_bad_nip(nip):
    with pytest.raises(ValueError, match=r"^NIP "):
        parse_nip(nip)


def test_rank_order():
    assert Golongan.III_A.ordinal < Golongan.III_B.ordinal < Golongan.IV_E.ordinal == 17


def test_elapsed_years_anniversary_is_exact():
    assert elapsed_years(dt.date(2024, 3, 1), dt.date(2026, 3, 1)) == 2.0
    assert elapsed_years(dt.date(2024, 3, 1), dt.date(2026, 2, 28)) < 2.0


def test_candidate_schema_has_nested_paths():
    schema = fact_schema("candidate")
    assert schema.get("candidate.employee.rank").enum is Golongan
    assert schema.get("as_of") is not None
