"""latent on Ray: score a large table with Ray Data, and train several models in parallel.

Scoring runs `map_batches` with a callable class, so each worker loads the model file once
and scores every batch it is given with the Rust library (the GIL is released while it
works). Training runs one Ray task per hyper-parameter setting (or per data partition); a
fitted estimator travels back as the model file's bytes (pickling a latent estimator is its
model file).

    python examples/ray_score.py MODEL.safetensors DATA.parquet|DATA.csv [OUT_DIR]
"""

import sys

import numpy as np
import ray

import latent


class Scorer:
    """Loads the model once per worker; scores pandas batches."""

    def __init__(self, model_path):
        self.det = latent.load(model_path)
        self.columns = self.det.model_.input_names

    def __call__(self, batch):
        scores = self.det.decision_function(batch[self.columns])
        batch["score"] = scores
        batch["is_anomaly"] = self.det.model_.flags(scores)
        return batch


def score(dataset, model_path, workers=2, batch_size=4096):
    """`dataset` (a ray.data.Dataset with the model's columns) with `score` and `is_anomaly`
    columns added."""
    return dataset.map_batches(
        Scorer,
        fn_constructor_args=(str(model_path),),
        concurrency=workers,
        batch_size=batch_size,
        batch_format="pandas",
    )


@ray.remote
def _fit(X, params):
    return latent.AutoEncoder(**params).fit(X)


def train_many(X, settings):
    """One model per parameter dict in `settings`, trained in parallel Ray tasks."""
    ref = ray.put(np.ascontiguousarray(X, dtype=np.float32))
    return ray.get([_fit.remote(ref, p) for p in settings])


if __name__ == "__main__":
    model, data = sys.argv[1], sys.argv[2]
    ray.init()
    ds = ray.data.read_parquet(data) if data.endswith(".parquet") else ray.data.read_csv(data)
    scored = score(ds, model)
    if len(sys.argv) > 3:
        scored.write_parquet(sys.argv[3])
    else:
        print(scored.to_pandas()[["score", "is_anomaly"]].describe())
