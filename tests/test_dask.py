"""The simulation studies run on a real Dask distributed cluster with the same numbers.

The studies send their batches through ``joblib.Parallel``; inside
``joblib.parallel_backend("dask")`` the batches go to the cluster of the active
``dask.distributed.Client``. Each batch draws from its own spawned seed, so the numbers
must equal the sequential run's exactly.
"""

from __future__ import annotations

import joblib
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed", reason="dask[distributed] is in the test extra")

import ctcbook as cb  # noqa: E402


@pytest.fixture(scope="module")
def client():
    """A LocalCluster on 127.0.0.1 over TCP: two workers (in this process), no dashboard."""
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                       protocol="tcp", host="127.0.0.1",
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.mark.parametrize("study", [
    lambda **kw: cb.cutpoint_type1_error(n_sim=60, n=52, n_permutations=50, seed=12,
                                         batch_size=10, **kw),
    lambda **kw: cb.guarantee_time_study(n_sim=60, n=52, p_positive=0.15, seed=13,
                                         batch_size=10, **kw),
    lambda **kw: cb.simulate_power(n=[100], hr=[2.0], prevalence=0.15, n_sim=60, seed=17,
                                   batch_size=10, **kw),
], ids=["cutpoint", "guarantee-time", "power"])
def test_study_on_a_local_dask_cluster_equals_the_sequential_run(client, study):
    sequential = study()
    assert client.scheduler.address.startswith("tcp://127.0.0.1:")
    assert len(client.scheduler_info()["workers"]) == 2
    with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        on_cluster = study()
    assert stream.data, "no task ran on the Dask cluster"
    workers = {task["worker"] for task in stream.data}
    assert workers <= set(client.scheduler_info()["workers"])
    pd.testing.assert_frame_equal(on_cluster.replications, sequential.replications)
    pd.testing.assert_frame_equal(on_cluster.summary, sequential.summary)
