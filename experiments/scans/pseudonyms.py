"""Patient IDs (and, when asked, file names) become keyed-hash pseudonyms when scans are read.

A pseudonym is ``P-`` (patients) or ``F-`` (file names) and the first 50 bits of
``HMAC-SHA256(key, kind + NUL + text)`` written as 10 base32 letters, e.g. ``P-K3QJ7ZC2MA``.
The same text under the same key gives the same pseudonym in every run; without the key
nobody can tell which pseudonym belongs to which patient, nor test a guessed ID.

Collisions: among ``n`` distinct IDs the chance that two share a 50-bit pseudonym is about
``n^2 / 2^51``: 4e-10 for the proposal's 1,000 patients, 4e-8 for 10,000, 4e-4 for a
million. Every new pseudonym is checked against the lookup table anyway, and a collision stops
the build with a clear error instead of merging two patients.

The key is 32 random bytes (``secrets.token_bytes``), stored as hex in a file created with
mode 0600 inside a folder created with mode 0700, never world-readable even for an instant
(written under a private temporary name, then linked to its name: it appears complete or not
at all). Its place: ``--key-file``, else ``$MINICNN_PSEUDONYM_KEY``, else
``$XDG_CONFIG_HOME/minicnn/pseudonym.key`` (``~/.config/minicnn/pseudonym.key``). Beside it,
``pseudonym-lookup.csv`` (also 0600) maps every pseudonym made under the key back to its real
ID or file name for the researcher (``minicnn-knee lookup``). Outputs carry the key's
*fingerprint* (an HMAC of a fixed text, which says nothing about the key) so that a folder made
under one key is never continued under another.
"""
from __future__ import annotations

import base64
import csv
import hashlib
import hmac
import io
import json
import os
import secrets
import stat

ENV_KEY = "MINICNN_PSEUDONYM_KEY"
KEY_BYTES = 32
PSEUDONYM_CHARS = 10  # base32 letters: 50 bits (see the module docstring for collisions)
PREFIX = {"patient": "P-", "file": "F-"}
LOOKUP_NAME = "pseudonym-lookup.csv"
LOOKUP_HEADER = ("pseudonym", "kind", "real")


def default_key_path() -> str:
    config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(config, "minicnn", "pseudonym.key")


def key_path(option: str | None = None) -> str:
    """The key file: ``option`` (``--key-file``), else ``$MINICNN_PSEUDONYM_KEY``, else the
    default."""
    chosen = option or os.environ.get(ENV_KEY) or default_key_path()
    return os.path.abspath(os.path.expanduser(chosen))


def _check_private(path: str) -> None:
    mode = os.stat(path).st_mode
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ValueError(f"{path} is readable by others (mode {stat.filemode(mode)}); it must be "
                         f"owner-only: chmod 600 {path}")


def _create_private_folder(folder: str) -> None:
    """Make ``folder`` (mode 0700) if it does not exist; its parents get the usual mode."""
    if os.path.isdir(folder):
        return
    os.makedirs(os.path.dirname(folder), exist_ok=True)
    try:
        os.mkdir(folder, 0o700)
    except FileExistsError:
        pass


def _write_new_private_file(path: str, data: bytes) -> bool:
    """Create ``path`` with mode 0600 holding ``data``, complete or not at all; False if it
    already exists (another process made it first)."""
    tmp = f"{path}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.link(tmp, path)  # fails if path exists: never replaces a key
        return True
    except FileExistsError:
        return False
    finally:
        os.unlink(tmp)


def load_or_create_key(path: str) -> tuple[bytes, bool]:
    """The key stored at ``path`` and whether it was created now."""
    created = False
    if not os.path.exists(path):
        _create_private_folder(os.path.dirname(path))
        text = secrets.token_bytes(KEY_BYTES).hex().encode() + b"\n"
        created = _write_new_private_file(path, text)
    _check_private(path)
    with open(path, "rb") as f:
        text = f.read().strip()
    try:
        key = bytes.fromhex(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ValueError(f"{path} is not a pseudonym key ({2 * KEY_BYTES} hex digits expected)")
    return key, created


class Pseudonyms:
    """Pseudonyms under one key, remembering the new ones for the lookup table.

    ``lookup`` is the table's path (None: no table, for tests of the hashing alone)."""

    def __init__(self, key: bytes, lookup: str | None = None, key_file: str | None = None):
        if len(key) != KEY_BYTES:
            raise ValueError(f"Pseudonyms: the key must be {KEY_BYTES} bytes, got {len(key)}")
        self._key, self.lookup, self.key_file = key, lookup, key_file
        self._new: dict[str, tuple[str, str]] = {}
        self.fingerprint = hmac.new(key, b"minicnn pseudonym key fingerprint",
                                    hashlib.sha256).hexdigest()[:16]

    @classmethod
    def open(cls, option: str | None = None) -> Pseudonyms:
        """The project's key (created on first use, see the module docstring) and its table."""
        path = key_path(option)
        key, created = load_or_create_key(path)
        table = os.path.join(os.path.dirname(path), LOOKUP_NAME)
        if os.path.exists(table):
            _check_private(table)
        pseudonyms = cls(key, table, path)
        print(f"pseudonym key: {path} ({'created now, ' if created else ''}fingerprint "
              f"{pseudonyms.fingerprint}); lookup table: {table}")
        return pseudonyms

    def make(self, kind: str, text: str) -> str:
        """``PREFIX[kind]`` + 10 base32 letters of ``HMAC-SHA256(key, kind NUL text)``."""
        message = kind.encode() + b"\0" + text.encode("utf-8")
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        name = PREFIX[kind] + base64.b32encode(digest).decode()[:PSEUDONYM_CHARS]
        seen = self._new.get(name)
        if seen is not None and seen != (kind, text):
            raise RuntimeError(f"pseudonym collision: two different {kind}s give {name}")
        self._new[name] = (kind, text)
        return name

    def patient(self, real_id: str) -> str:
        return self.make("patient", real_id)

    def file(self, name: str) -> str:
        return self.make("file", name)

    def read_lookup(self) -> dict[str, tuple[str, str]]:
        """The table on disk: pseudonym -> (kind, real)."""
        if not self.lookup or not os.path.exists(self.lookup):
            return {}
        with open(self.lookup, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
        return {row[0]: (row[1], row[2]) for row in rows[1:] if len(row) == 3}

    def save_lookup(self) -> int:
        """Append the pseudonyms made since the last save that the table lacks; returns how
        many. A table entry that names another ID for the same pseudonym is a collision."""
        if not self.lookup or not self._new:
            return 0
        known = self.read_lookup()
        rows = []
        for name, entry in sorted(self._new.items()):
            if name in known and known[name] != entry:
                raise RuntimeError(f"pseudonym collision: {name} already stands for another "
                                   f"{known[name][0]} in {self.lookup}")
            if name not in known:
                rows.append((name, *entry))
        self._new.clear()
        if not rows:
            return 0
        _create_private_folder(os.path.dirname(self.lookup))
        fd = os.open(self.lookup, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", newline="", encoding="utf-8") as f:
            text = io.StringIO()
            writer = csv.writer(text)
            if f.tell() == 0:
                writer.writerow(LOOKUP_HEADER)
            writer.writerows(rows)
            f.write(text.getvalue())
        _check_private(self.lookup)
        return len(rows)


def check_outside(key_file: str, folder: str, nested: bool = True) -> None:
    """Refuse a key (and its lookup table beside it) inside the output ``folder``, or, with
    ``nested`` False, directly in it: it would be shared with the outputs."""
    key_file, folder = os.path.realpath(key_file), os.path.realpath(folder)
    inside = (os.path.commonpath([key_file, folder]) == folder if nested
              else os.path.dirname(key_file) == folder)
    if inside:
        raise ValueError(f"the pseudonym key {key_file} (and its lookup table) lies inside the "
                         f"output folder {folder}; keep it outside (--key-file or ${ENV_KEY})")


def check_records(folder: str, fingerprint: str) -> None:
    """Refuse to continue ``folder`` when a ``record.json`` under it was written under another
    key, or before pseudonyms (no ``pseudonym_key``: it lists raw patient IDs)."""
    for root, _, names in os.walk(folder):
        if "record.json" not in names:
            continue
        path = os.path.join(root, "record.json")
        with open(path, encoding="utf-8") as f:
            found = json.load(f).get("pseudonym_key")
        if found is None:
            raise ValueError(f"{path} was written before patient pseudonyms: it lists raw patient "
                             f"IDs and its splits do not match pseudonymous crops; keep {folder} "
                             f"private and run in a new output folder")
        if found != fingerprint:
            raise ValueError(f"{path} was made under another pseudonym key (fingerprint {found}, "
                             f"this key's {fingerprint}); use the key it was made with "
                             f"(--key-file or ${ENV_KEY}) or a new output folder")
