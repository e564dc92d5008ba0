"""Data quality and drift: profiles, schemas, validation and drift tests (pure, vectorised).

>>> import pandas as pd
>>> from mlvitals.quality import check, profile
>>> reference = pd.DataFrame({"age": [25, 35, 45, 55] * 100, "plan": ["a", "b"] * 200})
>>> result = check(reference.assign(age=reference.age + 30), reference=reference)
>>> result.passed, [c.column for c in result.drift.drifted]
(False, ['age'])
"""

from mlvitals.quality.checking import check, load_profile
from mlvitals.quality.columns import ColumnKind
from mlvitals.quality.drift.base import DriftMethod, Statistic, get_method, methods, register
from mlvitals.quality.drift.config import ColumnRule, DriftPolicy, load_policy
from mlvitals.quality.drift.evaluate import compare_profiles
from mlvitals.quality.drift.result import ColumnDrift, DriftReport
from mlvitals.quality.failures import Failure, OffendingValue
from mlvitals.quality.profiles import ColumnProfile, Profile
from mlvitals.quality.profiling import profile
from mlvitals.quality.result import CheckResult
from mlvitals.quality.schema import ColumnSchema, Schema, infer_schema
from mlvitals.quality.schema_yaml import load_schema, save_schema

__all__ = [
    "CheckResult",
    "ColumnDrift",
    "ColumnKind",
    "ColumnProfile",
    "ColumnRule",
    "ColumnSchema",
    "DriftMethod",
    "DriftPolicy",
    "DriftReport",
    "Failure",
    "OffendingValue",
    "Profile",
    "Schema",
    "Statistic",
    "check",
    "compare_profiles",
    "get_method",
    "infer_schema",
    "load_policy",
    "load_profile",
    "load_schema",
    "methods",
    "profile",
    "register",
    "save_schema",
]
