"""The time-series report's held-out verdicts: Holm-corrected over the reference models."""

from __future__ import annotations

import types

import numpy as np
import pandas as pd

from harness.report import forecast
from harness.study.holdout import TUNED


def test_forecast_verdicts_are_holm_corrected_over_the_references(monkeypatch):
    rows = pd.DataFrame(
        {
            "model": ["tuned LSTM", "naive last value", "unoptimized LSTM", "ridge"],
            "rmse": [20.0, 33.0, 22.0, 21.0],
            "rmse_interval": ["[15.0000, 25.0000]"] * 4,
            "tuned_minus": [np.nan, -13.0, -2.0, -1.0],
            "difference_interval": ["", "[-17.0000, -8.0000]", "[-4.0000, -0.1000]", "[-3, 1]"],
            # Alone, 0.03 would pass; Holm over three references makes it 0.06.
            "paired_p": [np.nan, 0.001, 0.03, 0.4],
        }
    )
    monkeypatch.setattr(forecast, "comparison_rows", lambda ctx: rows)
    ctx = types.SimpleNamespace(holdout={TUNED: {"y_true": list(range(62))}})
    text = " ".join(forecast.summary_evidence(ctx))
    assert "Against the naive last value" in text
    assert "p = 0.001; the tuned model errs less (Holm-corrected p = 0.003)." in text
    assert "p = 0.03; no difference is shown (Holm-corrected p = 0.06)." in text
    assert "p = 0.4; no difference is shown (Holm-corrected p = 0.4)." in text
    assert "Holm's correction (Holm, 1979) runs over the 3 paired bootstrap p-values" in text
