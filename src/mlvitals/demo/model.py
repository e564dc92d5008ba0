"""A real scikit-learn model served by FastAPI: the demo's model service.

The model is a gradient-boosted classifier trained at start on the breast-cancer data set
that ships inside scikit-learn (no download). ``/predict`` scores one record; a record with
the wrong number of features is a 422 (a client error), ``"explode": true`` raises inside the
model (a server error), and ``"slow": true`` adds latency, so the demo has all three.
A replica's :class:`Faults` stage incidents inside the service itself: extra latency on
every prediction, as a bad release would add.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field


class ModelError(RuntimeError):
    """The model failed on an input."""


@dataclass(frozen=True, slots=True)
class TrainedModel:
    model: Any
    feature_names: tuple[str, ...]
    sample: np.ndarray

    def predict(self, features: list[float]) -> float:
        x = np.asarray(features, dtype=float).reshape(1, -1)
        return float(self.model.predict_proba(x)[0, 1])


def _need_sklearn() -> None:
    try:
        import sklearn  # noqa: F401
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        from mlvitals.errors import ConfigError

        raise ConfigError("the demo needs scikit-learn: pip install 'mlvitals[demo]'") from exc


def load_data() -> tuple[np.ndarray, np.ndarray]:
    """The breast-cancer data set shipped with scikit-learn (no download): X and y."""
    _need_sklearn()
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer()
    return np.asarray(data.data, dtype=float), np.asarray(data.target)


def train() -> TrainedModel:
    """Train in about a second on the data set shipped with scikit-learn."""
    _need_sklearn()
    from sklearn.datasets import load_breast_cancer
    from sklearn.ensemble import HistGradientBoostingClassifier

    data = load_breast_cancer()
    model = HistGradientBoostingClassifier(max_iter=60, random_state=0)
    model.fit(data.data, data.target)
    return TrainedModel(model, tuple(str(n) for n in data.feature_names), data.data)


@dataclass
class Faults:
    """Faults of one replica, changed by the scenario while it serves."""

    extra_latency: float = 0.0  # seconds added to every prediction


class PredictRequest(BaseModel):
    features: list[float] = Field(description="30 numeric features, in the training order")
    slow: bool = False
    explode: bool = False


def create_model_app(trained: TrainedModel, faults: Faults | None = None) -> FastAPI:
    app = FastAPI(title="tumour-classifier")
    n = len(trained.feature_names)
    faults = faults or Faults()

    @app.post("/predict")
    def predict(req: PredictRequest) -> dict[str, float]:
        if len(req.features) != n:
            raise HTTPException(422, f"expected {n} features, got {len(req.features)}")
        if req.explode:
            raise ModelError("numerical instability in the model")
        delay = (0.25 if req.slow else 0.0) + faults.extra_latency
        if delay:
            time.sleep(delay)
        return {"malignant_probability": trained.predict(req.features)}

    @app.post("/predict/batch")
    def predict_batch(rows: list[list[float]]) -> dict[str, list[float]]:
        if faults.extra_latency:
            time.sleep(faults.extra_latency)
        x = np.asarray(rows, dtype=float)
        if x.ndim != 2 or x.shape[1] != n:
            raise HTTPException(422, f"expected rows of {n} features")
        return {"malignant_probability": trained.model.predict_proba(x)[:, 1].tolist()}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
