"""Helpers for the privacy tests: scans that carry a hospital's identifiers, and a byte search
of every file under a folder (archives opened) for those identifiers."""
import base64
import gzip
import io
import re
import zipfile

from experiments.scans.matfile import write_mat
from tests.experiments.scan_files import phantom_variables

ENCODINGS = ("utf-8", "utf-16-le", "utf-32-le")  # text, MATLAB v7.3 chars, NumPy '<U' arrays


def hospital_identity(index: int) -> dict:
    """The identifying info fields of patient ``index``, as a hospital's files spell them."""
    return {"PatientID": f"MRN{8_400_213 + 37 * index}",
            "PatientName": f"KOWALSKA^ZOFIA^{chr(65 + index)}",
            "BirthDate": f"19{41 + index:02d}-0{1 + index % 9}-1{index % 10}",
            "AccessionNumber": f"ACC-77{index:03d}-9"}


def write_hospital_scans(folder, patients: int) -> list[str]:
    """``scan_000.mat``... (v5 and v7.3 in turn): phantom anatomy, a hospital's info struct.
    Returns every identifying string written."""
    folder.mkdir(parents=True, exist_ok=True)
    secrets = []
    for index in range(patients):
        variables = phantom_variables(index)
        identity = hospital_identity(index)
        info = {k: v for k, v in variables["info"].items()
                if k not in ("patientid", "patientname", "birthdate")}
        variables["info"] = {**identity, **info}
        version = "v5" if index % 2 == 0 else "v7.3"
        write_mat(str(folder / f"scan_{index:03d}.mat"), variables, version)
        secrets += identity.values()
    return secrets


def _contents(data: bytes):
    """``data`` and everything inside it: zip members (.npz), gzip streams, base64 data URIs."""
    yield data
    if data[:4] == b"PK\x03\x04":
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            for member in archive.namelist():
                yield from _contents(archive.read(member))
    if data[:2] == b"\x1f\x8b":
        yield from _contents(gzip.decompress(data))
    for encoded in re.findall(rb"base64,([A-Za-z0-9+/=]+)", data):
        yield from _contents(base64.b64decode(encoded))


def find_strings(folder, strings) -> list[tuple[str, str]]:
    """``(file, string)`` for every string found in a file under ``folder`` in any of
    ``ENCODINGS``, case-insensitively, archives opened."""
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        blobs = [blob.lower() for blob in _contents(path.read_bytes())]
        for text in strings:
            needles = [text.lower().encode(e) for e in ENCODINGS]
            if any(n in blob for blob in blobs for n in needles):
                found.append((str(path.relative_to(folder)), text))
    return found
