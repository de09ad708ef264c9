"""The network with gradient-boosted trees: soft voting or stacking, as one classifier.

:class:`NetworkTreeEnsemble` combines :class:`harness.MLPClassifier` with
scikit-learn's ``HistGradientBoostingClassifier`` through scikit-learn's own
``VotingClassifier`` (soft voting) or ``StackingClassifier`` (a logistic
regression on out-of-fold probabilities). The ``"ensemble"`` family's pipeline and the
held-out comparison's "network + gradient boosting" rows are built in
:mod:`harness.model.ensemble_pipeline`.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.ensemble import HistGradientBoostingClassifier, StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from harness.model.estimator import MLPClassifier

__all__ = ["NetworkTreeEnsemble"]

METHODS = ("voting", "stacking")


class NetworkTreeEnsemble(ClassifierMixin, BaseEstimator):
    """The MLP and gradient-boosted trees combined by soft voting or by stacking.

    Both members see the same (preprocessed) rows. ``"voting"`` averages their
    class probabilities, ``weight`` on the network and ``1 - weight`` on the
    trees (a member of weight 0 is not fitted, so ``weight=0`` is the trees
    exactly and ``weight=1`` the network exactly). ``"stacking"`` fits a
    logistic regression on the members' out-of-fold probabilities
    (``stacking_folds`` stratified, shuffled folds), then refits both members on
    every row; ``weight`` is then unused.

    Parameters
    ----------
    network : MLPClassifier or None, default=None
        The network (cloned before fitting); None is ``MLPClassifier()``. Its
        parameters are addressable as ``network__<name>`` (``set_params``, a
        search space). A network whose ``random_state`` is None gets this
        estimator's.
    method : {"voting", "stacking"}, default="voting"
        How the members are combined.
    weight : float, default=0.5
        The network's share of the soft vote, in [0, 1].
    learning_rate : float, default=0.1
        The trees' shrinkage, > 0.
    max_iter : int, default=100
        Boosting iterations (trees per class), >= 1; no early stopping.
    max_depth : int or None, default=None
        Largest depth of a tree (None: limited only by its 31 leaves).
    l2_regularization : float, default=0.0
        L2 penalty on the leaf values, >= 0.
    class_weight : None, "balanced" or dict, default=None
        Class weights of the trees and of the stacking meta-model (the network
        has its own ``class_weight``).
    stacking_folds : int, default=5
        Folds of the out-of-fold probabilities the stacking meta-model learns
        from, >= 2.
    meta_C : float, default=1.0
        Inverse L2 strength of the stacking meta-model (logistic regression), > 0.
    callbacks : list of skorch callbacks or None, default=None
        Added to the network's own callbacks at every fit of it (the study loop's
        time limit and divergence guard; with stacking, the network is fitted
        ``stacking_folds + 1`` times).
    random_state : int, RandomState instance or None, default=None
        Seeds the trees, the stacking folds and a network without its own seed.

    Attributes
    ----------
    classes_, n_features_in_, feature_names_in_
        scikit-learn's fitted attributes: the sorted class labels, the number of
        features seen during ``fit`` and, for a DataFrame with string column
        names, those names.
    ensemble_ : VotingClassifier or StackingClassifier
        The fitted scikit-learn ensemble.
    network_ : MLPClassifier or None
        The fitted network (fitted on every row); None when its weight is 0.
    trees_ : HistGradientBoostingClassifier or None
        The fitted trees (fitted on every row); None when their weight is 0.
    n_iter_ : int
        The trees' boosting iterations (the network's epochs when the trees are not fitted).
    """

    def __init__(
        self,
        network: MLPClassifier | None = None,
        method: str = "voting",
        weight: float = 0.5,
        learning_rate: float = 0.1,
        max_iter: int = 100,
        max_depth: int | None = None,
        l2_regularization: float = 0.0,
        class_weight: str | dict | None = None,
        stacking_folds: int = 5,
        meta_C: float = 1.0,
        callbacks: list | None = None,
        random_state: int | np.random.RandomState | None = None,
    ) -> None:
        self.network = network
        self.method = method
        self.weight = weight
        self.learning_rate = learning_rate
        self.max_iter = max_iter
        self.max_depth = max_depth
        self.l2_regularization = l2_regularization
        self.class_weight = class_weight
        self.stacking_folds = stacking_folds
        self.meta_C = meta_C
        self.callbacks = callbacks
        self.random_state = random_state

    def __sklearn_clone__(self) -> NetworkTreeEnsemble:
        # Like MLPClassifier: callbacks may hold handles (an Optuna trial) that must not be copied.
        params = self.get_params(deep=False)
        callbacks = params.pop("callbacks")
        params = {name: clone(value, safe=False) for name, value in params.items()}
        return type(self)(**params, callbacks=None if callbacks is None else list(callbacks))

    def fit(self, X: Any, y: Any) -> NetworkTreeEnsemble:
        """Fit both members (and, with stacking, the meta-model) on ``X`` and ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Numeric features, without NaN or inf (the network needs them finite).
        y : array-like of shape (n_samples,)
            Class labels, at least two distinct.

        Returns
        -------
        NetworkTreeEnsemble
            The fitted estimator.

        Raises
        ------
        ValueError
            If a parameter is out of range, X holds NaN/inf or y has one class.
        """
        self._check_params()
        X, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_ = np.unique(y)
        if len(self.classes_) < 2:
            raise ValueError(
                f"y has 1 class ({self.classes_.tolist()[0]!r}); a classifier needs at least 2."
            )
        members = [("network", self._network()), ("trees", self._trees())]
        if self.method == "voting":
            weights = [float(self.weight), 1.0 - float(self.weight)]
            members = [
                (name, "drop" if share == 0 else member)
                for (name, member), share in zip(members, weights, strict=True)
            ]
            ensemble: Any = VotingClassifier(members, voting="soft", weights=weights)
        else:
            folds = StratifiedKFold(
                self.stacking_folds, shuffle=True, random_state=self.random_state
            )
            meta = LogisticRegression(C=self.meta_C, class_weight=self.class_weight, max_iter=1000)
            ensemble = StackingClassifier(
                members, final_estimator=meta, cv=folds, stack_method="predict_proba"
            )
        ensemble.fit(X, y)
        self.ensemble_ = ensemble
        fitted = {k: None if v == "drop" else v for k, v in ensemble.named_estimators_.items()}
        self.network_, self.trees_ = fitted["network"], fitted["trees"]
        self.n_iter_ = (self.network_ if self.trees_ is None else self.trees_).n_iter_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in the order of ``classes_``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            With voting, ``weight * network + (1 - weight) * trees``; with
            stacking, the meta-model's probabilities.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False)
        return self.ensemble_.predict_proba(X)

    def predict(self, X: Any) -> np.ndarray:
        """Most probable class of each row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    def _check_params(self) -> None:
        def require(ok: bool, name: str, expected: str) -> None:
            if not ok:
                raise ValueError(f"{name} must be {expected}; got {getattr(self, name)!r}.")

        def number(name: str) -> bool:
            value = getattr(self, name)
            return isinstance(value, Real) and not isinstance(value, bool)

        require(self.method in METHODS, "method", f"one of {METHODS}")
        require(number("weight") and 0 <= self.weight <= 1, "weight", "a number in [0, 1]")
        require(number("meta_C") and self.meta_C > 0, "meta_C", "a number > 0")
        folds = self.stacking_folds
        require(
            isinstance(folds, Integral) and not isinstance(folds, bool) and folds >= 2,
            "stacking_folds",
            "an integer >= 2",
        )
        require(
            self.network is None or isinstance(self.network, MLPClassifier),
            "network",
            "None or a harness.MLPClassifier",
        )
        require(
            self.callbacks is None or isinstance(self.callbacks, (list, tuple)),
            "callbacks",
            "None or a list of skorch callbacks",
        )

    def _network(self) -> MLPClassifier:
        network = MLPClassifier() if self.network is None else clone(self.network)
        if network.random_state is None:
            network.set_params(random_state=self.random_state)
        if self.callbacks:
            network.set_params(callbacks=[*(network.callbacks or []), *self.callbacks])
        return network

    def _trees(self) -> HistGradientBoostingClassifier:
        # HistGradientBoostingClassifier checks its own parameters when fitted.
        return HistGradientBoostingClassifier(
            learning_rate=self.learning_rate,
            max_iter=self.max_iter,
            max_depth=self.max_depth,
            l2_regularization=self.l2_regularization,
            class_weight=self.class_weight,
            early_stopping=False,
            random_state=self.random_state,
        )
