"""The scale-out examples (examples/ray_score.py, examples/spark_score.py) on a local Ray
cluster (2 CPUs) and a local Spark (local[2]): scores equal the in-process ones (to float32
rounding: the matrix kernels round differently on a short last batch) and flags agree."""

import os
import shutil
import sys

import numpy as np
import pytest

import latent
from conftest import ROOT, needs

EXAMPLES = str(ROOT / "examples")


@pytest.fixture(scope="module")
def table(tmp_path_factory):
    """A fitted detector, its model file and a DataFrame with a row id column."""
    pd = pytest.importorskip("pandas")
    from conftest import make_data

    X, _ = make_data(n=2000, width=6, outliers=40, seed=7)
    det = latent.AutoEncoder(epochs=5, seed=2).fit(X)
    path = tmp_path_factory.mktemp("scale") / "model.safetensors"
    det.save(path)
    df = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    df.insert(0, "row", np.arange(len(df)))
    return det, path, df, X


def _with_examples_on_path():
    """Workers import the example modules: put examples/ on their PYTHONPATH."""
    if EXAMPLES not in sys.path:
        sys.path.insert(0, EXAMPLES)
    parts = [EXAMPLES, *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))


def test_ray_map_batches_and_parallel_training(table):
    try:
        import ray
    except ImportError:
        needs("ray")
    det, path, df, X = table
    _with_examples_on_path()
    import ray_score

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, ignore_reinit_error=True)
    try:
        ds = ray.data.from_pandas(df)
        out = ray_score.score(ds, path, workers=2, batch_size=500).to_pandas()
        out = out.sort_values("row")
        np.testing.assert_allclose(
            out["score"].to_numpy(np.float32), det.decision_function(X), rtol=1e-5
        )
        np.testing.assert_array_equal(out["is_anomaly"].to_numpy(), det.predict(X))
        models = ray_score.train_many(X, [dict(epochs=2, latent=1), dict(epochs=2, latent=3)])
        assert [m.model_.code_width for m in models] == [1, 3]
        assert all(m.decision_function(X).shape == (len(X),) for m in models)
    finally:
        ray.shutdown()


def test_spark_map_in_pandas(table):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        needs("pyspark")
    if shutil.which("java") is None:
        needs("java")
    det, path, df, X = table
    _with_examples_on_path()
    os.environ["PYSPARK_PYTHON"] = sys.executable
    import spark_score

    spark = (
        SparkSession.builder.master("local[2]")
        .appName("latent-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .getOrCreate()
    )
    try:
        spark.sparkContext.addPyFile(os.path.join(EXAMPLES, "spark_score.py"))
        sdf = spark.createDataFrame(df).repartition(4)
        out = spark_score.score(spark, sdf, path).toPandas().sort_values("row")
        np.testing.assert_allclose(
            out["score"].to_numpy().astype(np.float32), det.decision_function(X), rtol=1e-5
        )
        np.testing.assert_array_equal(out["is_anomaly"].to_numpy(), det.predict(X))
    finally:
        spark.stop()
