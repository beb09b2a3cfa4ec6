"""Run a study's pending runs on a Dask cluster (``minicnn-knee study --executor dask``).

With ``scheduler`` (``tls://HOST:PORT``, or ``tcp://`` on a trusted network) the runs go to
that existing cluster; without one a ``LocalCluster`` of ``workers`` processes starts here, on
loopback. What goes over the network: the crops archive (knee images, grades and patient
pseudonyms, never the real IDs) once (scattered to every worker with its SHA-256, checked on
arrival and loaded once per worker process), then per task a small job description; back comes
each run's record, which is written here, atomically, in the same layout as local runs
(``OUT/runs/<condition>/<split>/record.json``), so ``report`` does not care where runs ran.

Each worker process compiles the Numba kernels into its own temporary cache (several
processes writing one Numba cache at once can corrupt it).

Faults: a task whose worker dies is rerun elsewhere (up to ``retries`` times); a run that
fails for its own reasons (divergence) returns a ``diverged`` record and is not retried;
rerunning the command skips every run that has a record. Runs train in a temporary folder
on the worker (their per-epoch checkpoints stay there). A job with ``device = "auto"`` takes
the worker's GPU when it has one; GPU runs ask for one unit of the worker resource ``GPU``,
so a worker started with ``--resources GPU=1`` runs one at a time.

Encryption: a ``tls://`` scheduler is reached with a :class:`distributed.Security` made from
the certificate options (``--tls-ca-file``, ``--tls-cert``, ``--tls-key``) or, without them,
from Dask's configuration (``distributed.comm.tls.ca-file``, ``.client.cert``, ``.client.key``,
also as ``DASK_DISTRIBUTED__COMM__TLS__CA_FILE`` etc.). A ``tcp://`` scheduler on another
machine gets an :class:`UnencryptedNetworkWarning`: the knee images cross the network in clear.
"""
from __future__ import annotations

import hashlib
import io
import ipaddress
import os
import socket
import tempfile
import warnings

_LOADED: dict = {}  # per worker process: SHA-256 -> KneeDataset


class UnencryptedNetworkWarning(UserWarning):
    """Patient images are about to cross the network without encryption."""


def _is_loopback(host: str) -> bool:
    """Whether every address ``host`` names is a loopback address (unresolvable: no)."""
    host = host.strip("[]")
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(host, None)}
    except OSError:
        return False
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback
                                   for a in addresses)


def cluster_security(scheduler: str | None, tls_ca_file: str | None = None,
                     tls_cert: str | None = None, tls_key: str | None = None):
    """The :class:`distributed.Security` to reach ``scheduler`` with (None: plain TCP).

    ``tls://`` takes the given files (a CA certificate, this client's certificate and key),
    else Dask's TLS configuration, and must end with a CA file; a ``tcp://`` (or other
    unencrypted) address that is not loopback warns with :class:`UnencryptedNetworkWarning`."""
    from distributed import Security

    given = {k: v for k, v in (("tls_ca_file", tls_ca_file), ("tls_client_cert", tls_cert),
                               ("tls_client_key", tls_key)) if v}
    scheme, separator, rest = (scheduler or "").partition("://")
    if not separator:  # Dask reads a bare HOST:PORT as tcp://
        scheme, rest = "tcp", scheduler or ""
    if scheme != "tls":
        if given:
            raise ValueError(f"--tls-ca-file/--tls-cert/--tls-key need a tls:// scheduler address, "
                             f"got {scheduler!r}")
        if scheduler and scheme != "inproc" and not _is_loopback(rest.rsplit(":", 1)[0]):
            warnings.warn(f"scheduler {scheduler} is reached over unencrypted {scheme}://: the "
                          f"knee images (and the patient pseudonyms) will cross the network in "
                          f"clear; use tls:// with certificates (docs/cluster.md)",
                          UnencryptedNetworkWarning, stacklevel=2)
        return None
    for option, path in given.items():
        if not os.path.isfile(path):
            raise FileNotFoundError(f"{option}: no file {path!r}")
    security = Security(require_encryption=True, **given)
    if not security.tls_ca_file:
        raise ValueError(f"scheduler {scheduler}: TLS needs a CA certificate: --tls-ca-file (and "
                         f"--tls-cert/--tls-key) or Dask's distributed.comm.tls configuration")
    return security


def _dataset(payload: tuple[str, bytes]):
    digest, data = payload
    if digest not in _LOADED:
        if hashlib.sha256(data).hexdigest() != digest:
            raise ValueError("the crops archive arrived damaged (SHA-256 mismatch)")
        from ..crops.archive import load_dataset
        _LOADED.clear()
        _LOADED[digest] = load_dataset(io.BytesIO(data))
    return _LOADED[digest]


def run_job_on_dask_worker(job: dict, payload: tuple[str, bytes]) -> dict:
    """Run one job on a Dask worker, in a temporary folder; returns the run's record."""
    import minicnn

    from .jobs import run_job
    minicnn.backend.use_private_kernel_cache()  # a no-op after this worker's first task
    minicnn.backend.set_num_threads(job["threads"])
    if job["device"] == "auto":
        job = dict(job, device="cuda" if minicnn.cuda.is_available() else "cpu")
    with tempfile.TemporaryDirectory(prefix="minicnn-run-") as folder:
        return run_job(job, _dataset(payload), folder)


CLOSE_TIMEOUT_S = 10
"""The longest the client and its own cluster may take to close (each), in seconds."""


def run_study_dask(study, crops: str, out: str, scheduler: str | None = None, workers: int = 2,
                   threads: int = 1, device: str = "cpu", retries: int = 2, progress: bool = True,
                   security=None) -> list:
    """Submit every pending run; write each record as it comes back; return the jobs run.
    ``security`` (see :func:`cluster_security`) reaches a ``tls://`` scheduler."""
    from distributed import Client, LocalCluster, as_completed
    from tqdm import tqdm

    from ..atomic import write_json
    from .grid import slug
    from .jobs import job_outcome, pending_jobs

    jobs = pending_jobs(study, crops, out, threads, device)
    cluster = None if scheduler else LocalCluster(n_workers=workers, threads_per_worker=1,
                                                  processes=True, dashboard_address=":0")
    client = Client(scheduler or cluster, security=security)
    try:
        print(f"Dask dashboard: {client.dashboard_link}")
        with open(crops, "rb") as f:
            data = f.read()
        payload = client.scatter((hashlib.sha256(data).hexdigest(), data), broadcast=True)
        futures = {}
        for job in jobs:
            resources = {"GPU": 1} if job["device"] == "cuda" else None
            key = f"minicnn-run-{slug(job['label'])}-{job['split']}-{os.urandom(4).hex()}"
            future = client.submit(run_job_on_dask_worker, job, payload, retries=retries,
                                   key=key, pure=False, resources=resources)
            futures[future] = job
        done = []
        bar = tqdm(total=len(jobs), desc="study (dask)", unit="run", disable=not progress)
        for future in as_completed(futures):
            job, record = futures[future], future.result()
            write_json(os.path.join(job["out"], "record.json"), record)
            done.append(job_outcome(job, record))
            bar.update()
        bar.close()
        return done
    finally:  # bounded, so that Ctrl-C ends the client even while a worker is busy
        try:
            client.close(timeout=CLOSE_TIMEOUT_S)
        finally:  # the cluster too when the client's close timed out
            if cluster is not None:
                cluster.close(timeout=CLOSE_TIMEOUT_S)
