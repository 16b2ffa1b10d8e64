"""PyOD's own evaluation utilities on latent's scores (PyOD's detector conventions)."""

import numpy as np
import pytest

import latent

pyod = pytest.importorskip("pyod")  # installed by .ci/run


def test_pyod_evaluation_of_latent_scores(capsys):
    from pyod.utils.data import evaluate_print, generate_data
    from pyod.utils.utility import precision_n_scores, standardizer

    X_train, X_test, y_train, y_test = generate_data(
        n_train=400, n_test=200, n_features=6, contamination=0.1, random_state=0
    )
    det = latent.AutoEncoder(epochs=30, contamination=0.1, seed=0).fit(X_train)
    train_scores = det.decision_scores_
    test_scores = det.decision_function(X_test)
    evaluate_print("latent", y_test, test_scores)
    printed = capsys.readouterr().out
    assert printed.startswith("latent ROC:")
    roc = float(printed.split("ROC:")[1].split(",")[0])
    assert roc > 0.9
    assert precision_n_scores(y_test, test_scores) > 0.6
    # PyOD habits: labels_ on the training rows, 0/1 predict with the contamination threshold.
    assert abs(det.labels_.mean() - 0.1) < 0.02
    assert set(np.unique(det.predict(X_test))) <= {0, 1}
    # Scores combine with other detectors' through PyOD's standardizer.
    both = standardizer(np.column_stack([train_scores, train_scores]))
    assert both.shape == (400, 2)
