"""The LSTM family's vocabulary, torch-free: its parameter names, defaults and baseline.

The search layer checks ``lstm`` space files against these names without importing
torch; ``tests/model/test_lstm.py`` ties them to :class:`harness.LSTMRegressor`.
"""

from __future__ import annotations

LSTM_PARAMS = (
    "window",
    "hidden_size",
    "n_layers",
    "dropout",
    "optimizer",
    "lr",
    "weight_decay",
    "batch_size",
    "max_epochs",
)
"""The ``lstm`` family's parameters: :class:`harness.LSTMRegressor`'s, less the seed,
callbacks, device and verbosity."""
LSTM_BASELINE = {
    "window": 12,  # one ~11-year solar cycle of yearly sunspot numbers
    "hidden_size": 32,
    "n_layers": 1,
    "dropout": 0.0,
    "optimizer": "adam",
    "lr": 1e-3,
    "batch_size": 32,
    "max_epochs": 50,
}
"""The unoptimized LSTM: :class:`harness.LSTMRegressor`'s defaults."""
LSTM_DEFAULTS = {**LSTM_BASELINE, "weight_decay": 0.0}
"""Every ``lstm`` parameter's default (:class:`harness.LSTMRegressor`'s)."""
