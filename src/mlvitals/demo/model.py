"""A real scikit-learn model served by FastAPI: the demo's model service.

The model is a gradient-boosted classifier trained at start on the breast-cancer data set
that ships inside scikit-learn (no download). ``/predict`` scores one record; a record with
the wrong number of features is a 422 (a client error), ``"explode": true`` raises inside the
model (a server error), and ``"slow": true`` adds latency, so the demo has all three.
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


def train() -> TrainedModel:
    """Train in about a second on the data set shipped with scikit-learn."""
    try:
        from sklearn.datasets import load_breast_cancer
        from sklearn.ensemble import HistGradientBoostingClassifier
    except ImportError as exc:  # pragma: no cover - depends on the installed extras
        from mlvitals.errors import ConfigError

        raise ConfigError("the demo needs scikit-learn: pip install 'mlvitals[demo]'") from exc
    data = load_breast_cancer()
    model = HistGradientBoostingClassifier(max_iter=60, random_state=0)
    model.fit(data.data, data.target)
    return TrainedModel(model, tuple(str(n) for n in data.feature_names), data.data)


class PredictRequest(BaseModel):
    features: list[float] = Field(description="30 numeric features, in the training order")
    slow: bool = False
    explode: bool = False


def create_model_app(trained: TrainedModel) -> FastAPI:
    app = FastAPI(title="tumour-classifier")
    n = len(trained.feature_names)

    @app.post("/predict")
    def predict(req: PredictRequest) -> dict[str, float]:
        if len(req.features) != n:
            raise HTTPException(422, f"expected {n} features, got {len(req.features)}")
        if req.explode:
            raise ModelError("numerical instability in the model")
        if req.slow:
            time.sleep(0.25)
        return {"malignant_probability": trained.predict(req.features)}

    @app.post("/predict/batch")
    def predict_batch(rows: list[list[float]]) -> dict[str, list[float]]:
        x = np.asarray(rows, dtype=float)
        if x.ndim != 2 or x.shape[1] != n:
            raise HTTPException(422, f"expected rows of {n} features")
        return {"malignant_probability": trained.model.predict_proba(x)[:, 1].tolist()}

    @app.get("/health")
    def health() -> dict[str, str]:
        return {"status": "ok"}

    return app
