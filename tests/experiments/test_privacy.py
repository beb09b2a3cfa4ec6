"""Patient data stays private: pseudonyms made at the door under a private key, identifying
info fields dropped, no identifier in any output, folders never continued under another key,
TLS to the cluster and a warning for plain TCP to another machine."""
import base64
import csv
import hashlib
import hmac
import json
import os
import re
import stat
import subprocess
import warnings

import numpy as np
import pytest

from experiments import cli
from experiments.crops import archive
from experiments.scans import pseudonyms
from experiments.scans.matfile import write_mat
from experiments.scans.pseudonyms import Pseudonyms
from experiments.study.dask_executor import UnencryptedNetworkWarning, cluster_security
from tests.experiments.privacy_files import find_strings, hospital_identity, write_hospital_scans
from tests.experiments.scan_files import phantom_variables

STUDY = ("[study]\nfolds = 2\nseeds = [0]\nproposal_split = false\n"
         "[base.model]\nblocks = 2\nchannels = [4, 8]\n"
         "[base.train]\nepochs = 1\nbatch_size = 8\noptimizer = 'adam'\nlr = 0.01\n"
         "bootstrap_rounds = 10\n")
PATIENTS = 12


@pytest.fixture(scope="module")
def hospital(tmp_path_factory):
    """12 scans whose info holds a patient ID, a name, a birth date and an accession number."""
    folder = tmp_path_factory.mktemp("hospital") / "scans"
    return folder, write_hospital_scans(folder, PATIENTS)


@pytest.fixture
def key_file(tmp_path, monkeypatch):
    """This test's own key, in a folder that does not exist yet (the code makes it)."""
    path = tmp_path / "keys" / "pseudonym.key"
    monkeypatch.setenv(pseudonyms.ENV_KEY, str(path))
    return path


def mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def lookup_table(key_path) -> dict:
    with open(key_path.parent / pseudonyms.LOOKUP_NAME, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["pseudonym", "kind", "real"]
    return {pseudonym: (kind, real) for pseudonym, kind, real in rows[1:]}


# ---- pseudonyms and the key ------------------------------------------------------------

def test_a_pseudonym_is_the_keyed_hash_and_the_same_in_every_run():
    key = bytes(range(32))
    digest = hmac.new(key, b"patient\0MRN123", hashlib.sha256).digest()
    expected = "P-" + base64.b32encode(digest).decode()[:10]
    assert Pseudonyms(key).patient("MRN123") == Pseudonyms(key).patient("MRN123") == expected
    assert re.fullmatch(r"P-[A-Z2-7]{10}", expected)
    assert Pseudonyms(bytes(32)).patient("MRN123") != expected  # another key, another pseudonym
    as_file = Pseudonyms(key).file("MRN123")
    assert as_file.startswith("F-") and as_file[2:] != expected[2:]
    assert Pseudonyms(key).fingerprint != Pseudonyms(bytes(32)).fingerprint
    assert key.hex() not in Pseudonyms(key).fingerprint and len(Pseudonyms(key).fingerprint) == 16


def test_a_collision_stops_instead_of_merging_two_patients(monkeypatch):
    monkeypatch.setattr(pseudonyms, "PSEUDONYM_CHARS", 1)  # 32 pseudonyms: 40 IDs must collide
    names = Pseudonyms(bytes(32))
    with pytest.raises(RuntimeError, match="pseudonym collision"):
        for number in range(40):
            names.patient(f"ID{number}")


def test_key_and_lookup_table_are_created_owner_only(key_file, capsys):
    old = os.umask(0)  # with no umask the modes come from the code alone
    try:
        names = Pseudonyms.open()
        names.patient("MRN1")
        assert names.save_lookup() == 1
    finally:
        os.umask(old)
    assert "created now" in capsys.readouterr().out and str(key_file) in names.key_file
    assert mode(key_file) == 0o600 and mode(key_file.parent) == 0o700
    assert mode(key_file.parent / pseudonyms.LOOKUP_NAME) == 0o600
    # no temporary file left behind
    assert sorted(os.listdir(key_file.parent)) == ["pseudonym-lookup.csv", "pseudonym.key"]
    again = Pseudonyms.open()
    assert again.fingerprint == names.fingerprint and again.patient("MRN1") == names.patient("MRN1")
    assert lookup_table(key_file) == {names.patient("MRN1"): ("patient", "MRN1")}
    os.chmod(key_file, 0o640)
    with pytest.raises(ValueError, match="readable by others"):
        Pseudonyms.open()


def test_the_key_file_is_created_with_its_mode_never_widened_later(key_file, monkeypatch):
    """Every file the key code creates is opened O_CREAT | O_EXCL with mode 0600."""
    calls, real_open = [], os.open
    monkeypatch.setattr(os, "open", lambda path, flags, mode=0o777: calls.append((flags, mode))
                        or real_open(path, flags, mode))
    monkeypatch.setattr(os, "chmod", lambda *a, **k: pytest.fail("the key must not need a chmod"))
    pseudonyms.load_or_create_key(str(key_file))
    assert calls and all(flags & os.O_CREAT and flags & os.O_EXCL and mode == 0o600
                         for flags, mode in calls)


def test_the_default_key_lives_in_the_users_config_folder(tmp_path, monkeypatch):
    monkeypatch.delenv(pseudonyms.ENV_KEY)
    monkeypatch.delenv("XDG_CONFIG_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert pseudonyms.key_path() == str(tmp_path / ".config" / "minicnn" / "pseudonym.key")
    assert pseudonyms.key_path("~/k.key") == str(tmp_path / "k.key")  # the option wins


def test_lookup_command_maps_pseudonyms_back(key_file, capsys):
    names = Pseudonyms.open()
    alias = names.patient("MRN42")
    names.save_lookup()
    capsys.readouterr()
    assert cli.main(["lookup", alias]) == 0
    assert f"{alias}\tMRN42\t(patient)" in capsys.readouterr().out
    assert cli.main(["lookup", "--id", "MRN42"]) == 0 and alias in capsys.readouterr().out
    assert cli.main(["lookup", "P-AAAAAAAAAA"]) == 1 and "not in" in capsys.readouterr().err


# ---- the reading step ------------------------------------------------------------------

def test_identifying_info_fields_are_dropped_and_counted(hospital, key_file):
    folder, _ = hospital
    data = archive.build_dataset(str(folder), archive.BuildOptions(exclude=()), progress=False)
    # every scan but the patient ID field: name, birth date, accession number
    assert data.summary.dropped_info == {"AccessionNumber": PATIENTS, "BirthDate": PATIENTS,
                                         "PatientName": PATIENTS}
    assert f"identifying info fields dropped: {3 * PATIENTS}" in data.summary.text()
    table = lookup_table(key_file)
    assert {table[p] for p in data.patients} == {("patient", hospital_identity(i)["PatientID"])
                                                 for i in range(PATIENTS)}


def test_hidden_file_names_are_pseudonyms_too(hospital, key_file, tmp_path):
    folder, _ = hospital
    out = tmp_path / "out" / "crops.npz"
    assert cli.main(["crops", str(folder), "--out", str(out), "--exclude", "scan_003.mat",
                     "--hide-file-names", "--quiet"]) == 0
    data = archive.load_dataset(str(out))
    table = lookup_table(key_file)
    assert all(re.fullmatch(r"F-[A-Z2-7]{10}", f) for f in data.files)
    shown = {f"scan_{i:03d}.mat" for i in range(PATIENTS) if i != 3}
    assert {table[f][1] for f in data.files} == shown
    assert table[data.summary.excluded[0]] == ("file", "scan_003.mat")
    assert find_strings(tmp_path / "out", ["scan_0"]) == []


def test_a_file_name_that_is_the_patient_id_never_shows_in_clear(key_file, tmp_path, capsys):
    """A scan whose info has no patient-ID field: its file's stem is the ID, so its name is
    shown as its pseudonym even without --hide-file-names."""
    folder = tmp_path / "scans"
    folder.mkdir()
    variables = phantom_variables(0)
    info = {k: v for k, v in variables["info"].items() if k != "patientid"}
    write_mat(str(folder / "MRN7700123.mat"), {**variables, "info": info})
    out = tmp_path / "out" / "crops.npz"
    assert cli.main(["crops", str(folder), "--out", str(out), "--quiet"]) == 0
    data = archive.load_dataset(str(out))
    keyed = Pseudonyms.open()
    assert set(data.files) == {keyed.file("MRN7700123.mat")}
    assert set(data.patients) == {keyed.patient("MRN7700123")}
    assert "MRN7700123" not in capsys.readouterr().out
    assert find_strings(tmp_path / "out", ["MRN7700123"]) == []


# ---- the whole pipeline: no identifier in any output ------------------------------------

def test_no_identifier_reaches_any_output(hospital, key_file, tmp_path, capsys, monkeypatch):
    folder, secrets = hospital
    monkeypatch.setenv("MINICNN_KERNELS", "numpy")  # Dask's worker process: no Numba compile
    scans = str(folder)
    # the search sees every identifier in the scans, v5 and v7.3
    assert {text for _, text in find_strings(folder, secrets)} == set(secrets)
    out, config = tmp_path / "out", tmp_path / "study.toml"
    config.write_text(STUDY)
    crops = str(out / "crops" / "crops.npz")
    assert cli.main(["crops", scans, "--out", crops, "--exclude", "--quiet"]) == 0
    study = ["study", "--config", str(config), "--data", scans, "--quiet"]
    assert cli.main(study + ["--out", str(out / "local")]) == 0
    dask = ["--out", str(out / "dask"), "--executor", "dask", "--workers", "1"]
    assert cli.main(study + dask) == 0
    assert cli.main(["report", str(out / "local")]) == 0
    checkpoint = str(out / "local" / "runs" / "base" / "fold1-seed0" / "checkpoint.npz")
    assert cli.main(["predict", checkpoint, os.path.join(scans, "scan_001.mat"),
                     "--out", str(out / "predict" / "cam.png")]) == 0
    assert cli.main(["explain", checkpoint, os.path.join(scans, "scan_002.mat"),
                     "--out", str(out / "explain")]) == 0
    logs = capsys.readouterr()
    assert cli.main(["predict", checkpoint, os.path.join(scans, "scan_003.mat"),
                     "--hide-file-names", "--out", str(out / "hidden" / "cam.png")]) == 0
    hidden = capsys.readouterr().out
    assert re.search(r"^F-[A-Z2-7]{10}: knee window", hidden, re.M) and "scan_003" not in hidden
    assert len(list(out.rglob("record.json"))) == 4 and (out / "local" / "report.html").exists()
    assert find_strings(out, secrets) == []
    assert [s for s in secrets if s.lower() in (logs.out + logs.err).lower()] == []
    table = lookup_table(key_file)
    for path in list(out.rglob("record.json")):
        record = json.loads(path.read_text())
        assert record["pseudonym_key"] == Pseudonyms.open().fingerprint
        for side in ("train", "validation", "test"):
            assert all(table[p][0] == "patient" for p in record["patients"][side])
    saved = archive.load_dataset(str(out / "local" / "crops.npz"))
    real = {hospital_identity(i)["PatientID"] for i in range(PATIENTS)}
    assert {table[p][1] for p in saved.patients} == real and not real & set(saved.patients)


# ---- folders made under another key, or before pseudonyms -------------------------------

def test_a_folder_made_under_another_key_is_refused(hospital, tmp_path, monkeypatch, capsys):
    folder, _ = hospital
    out = tmp_path / "out" / "crops.npz"
    monkeypatch.setenv(pseudonyms.ENV_KEY, str(tmp_path / "a" / "pseudonym.key"))
    assert cli.main(["crops", str(folder), "--out", str(out), "--quiet"]) == 0
    before = out.read_bytes()
    monkeypatch.setenv(pseudonyms.ENV_KEY, str(tmp_path / "b" / "pseudonym.key"))
    assert cli.main(["crops", str(folder), "--out", str(out), "--quiet"]) == 2
    assert "made under another pseudonym key" in capsys.readouterr().err
    assert out.read_bytes() == before
    run = tmp_path / "study" / "runs" / "base" / "fold1-seed0"
    run.mkdir(parents=True)
    (run / "record.json").write_text('{"pseudonym_key": "0123456789abcdef", "patients": {}}')
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    args = ["study", "--config", str(config), "--data", str(folder),
            "--out", str(tmp_path / "study"), "--quiet"]
    assert cli.main(args) == 2
    error = capsys.readouterr().err
    assert "made under another pseudonym key (fingerprint 0123456789abcdef" in error
    assert not (tmp_path / "study" / "crops.npz").exists()  # refused before any work


def test_an_archive_of_raw_ids_is_rebuilt_and_old_records_refused(hospital, key_file, tmp_path,
                                                                    capsys):
    folder, _ = hospital
    out = tmp_path / "out" / "crops.npz"
    out.parent.mkdir()
    raw = np.array([hospital_identity(i)["PatientID"] for i in range(4)])
    zeros = np.zeros(4, np.int64)
    key = archive.cache_key(archive.scan_files(str(folder)), archive.BuildOptions())
    old = archive.KneeDataset(np.zeros((4, 1, 128, 128), np.float32), zeros, raw, raw, zeros, zeros,
                              archive.Summary(), cache_key=key)
    archive.save_dataset(old, str(out))  # as the code before pseudonyms wrote it: no pseudonym_key
    assert archive.load_dataset(str(out)).key_fingerprint is None
    assert cli.main(["crops", str(folder), "--out", str(out), "--quiet"]) == 0
    assert "holds raw patient IDs: rebuilding it" in capsys.readouterr().out
    assert find_strings(tmp_path / "out", list(raw)) == []
    study = tmp_path / "study"
    run = study / "runs" / "base" / "fold1-seed0"
    run.mkdir(parents=True)
    (run / "record.json").write_text('{"patients": {"test": ["MRN1"]}}')
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    assert cli.main(["study", "--config", str(config), "--data", str(folder), "--out", str(study),
                     "--quiet"]) == 2
    assert "written before patient pseudonyms" in capsys.readouterr().err


def test_a_key_inside_the_output_folder_is_refused(hospital, tmp_path, capsys):
    folder, _ = hospital
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    out = tmp_path / "study"
    assert cli.main(["study", "--config", str(config), "--data", str(folder), "--out", str(out),
                     "--quiet", "--key-file", str(out / "keys" / "pseudonym.key")]) == 2
    assert "inside the output folder" in capsys.readouterr().err


# ---- the network --------------------------------------------------------------------------

def test_plain_tcp_to_another_machine_warns(recwarn):
    with pytest.warns(UnencryptedNetworkWarning, match="cross the network in clear"):
        assert cluster_security("tcp://192.0.2.10:8786") is None
    with pytest.warns(UnencryptedNetworkWarning):
        cluster_security("192.0.2.10:8786")  # Dask's default scheme is tcp
    recwarn.clear()
    for local in (None, "tcp://127.0.0.1:8786", "tcp://localhost:8786", "tcp://[::1]:8786"):
        assert cluster_security(local) is None
    assert not [w for w in recwarn if issubclass(w.category, UnencryptedNetworkWarning)]
    with pytest.raises(ValueError, match="need a tls:// scheduler"):
        cluster_security("tcp://127.0.0.1:8786", tls_ca_file="ca.pem")
    with pytest.raises(ValueError, match="TLS needs a CA certificate"):
        cluster_security("tls://127.0.0.1:8786")


def test_the_study_command_warns_before_sending_anything_over_plain_tcp(hospital, tmp_path,
                                                                        monkeypatch):
    from experiments.study import dask_executor
    folder, _ = hospital
    sent = []
    monkeypatch.setattr(dask_executor, "run_study_dask", lambda *a, **k: sent.append(k) or [])
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    with pytest.warns(UnencryptedNetworkWarning, match="192.0.2.10"):
        assert cli.main(["study", "--config", str(config), "--data", str(folder),
                         "--out", str(tmp_path / "o"), "--executor", "dask",
                         "--scheduler", "tcp://192.0.2.10:8786", "--quiet"]) == 0
    assert sent and sent[0]["security"] is None


def make_certificates(folder) -> dict:
    """A CA and one certificate it signed for 127.0.0.1/localhost (scheduler, worker and
    client share it), made with the openssl command line."""
    folder.mkdir()
    ext = folder / "ext.cnf"
    ext.write_text("basicConstraints=CA:FALSE\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
                   "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
                   "keyUsage=digitalSignature,keyEncipherment\n"
                   "extendedKeyUsage=serverAuth,clientAuth\n")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    for command in (["req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                     "-subj", "/CN=minicnn test CA"],
                    ["req", *ec, "-keyout", "node.key", "-out", "node.csr",
                     "-subj", "/CN=localhost"],
                    ["x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                     "-CAcreateserial", "-out", "node.pem", "-days", "2", "-extfile", "ext.cnf"]):
        subprocess.run(["openssl", *command], cwd=folder, check=True, capture_output=True)
    return {name: str(folder / name) for name in ("ca.pem", "node.pem", "node.key")}


@pytest.mark.skipif(subprocess.run(["which", "openssl"], capture_output=True).returncode != 0,
                    reason="needs the openssl command to make test certificates")
def test_a_study_runs_over_tls_on_loopback(hospital, tmp_path, capsys, monkeypatch):
    from distributed import Client, LocalCluster, Security
    folder, _ = hospital
    monkeypatch.setenv("MINICNN_KERNELS", "numpy")  # the worker process: no Numba compile
    certs = make_certificates(tmp_path / "certs")
    node = {f"tls_{role}_{part}": certs[f"node.{'pem' if part == 'cert' else 'key'}"]
            for role in ("scheduler", "worker", "client") for part in ("cert", "key")}
    security = Security(tls_ca_file=certs["ca.pem"], require_encryption=True, **node)
    config = tmp_path / "study.toml"
    config.write_text(STUDY)
    args = ["study", "--config", str(config), "--data", str(folder), "--out", str(tmp_path / "o"),
            "--executor", "dask", "--quiet"]
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, protocol="tls://",
                      host="127.0.0.1", security=security, dashboard_address=":0") as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://127.0.0.1:")
        # no certificates: refused before any work
        assert cli.main(args + ["--scheduler", address]) == 2
        assert "TLS needs a CA certificate" in capsys.readouterr().err
        with warnings.catch_warnings():
            warnings.simplefilter("error", UnencryptedNetworkWarning)
            tls = ["--tls-ca-file", certs["ca.pem"], "--tls-cert", certs["node.pem"],
                   "--tls-key", certs["node.key"]]
            assert cli.main(args + ["--scheduler", address] + tls) == 0
        with Client(address, security=security) as client:
            assert all(worker.startswith("tls://") for worker in client.scheduler_info()["workers"])
    assert "2 runs done now (2 in the study)" in capsys.readouterr().out
    assert len(list((tmp_path / "o").rglob("record.json"))) == 2
