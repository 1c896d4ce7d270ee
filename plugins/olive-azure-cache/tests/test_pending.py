"""The pending-upload backlog: kept on disk, and resumed only where its writer is gone."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from olive_azure_cache.pending import PendingUploads, Upload

MODEL = Upload("model", "ab" * 32, info={"pass_type": "ToyScale"}, created=1.5)
RECORD = Upload("record", "key/with:odd chars", "evaluation")


def test_markers_survive_and_are_removed_when_done(tmp_path):
    pending = PendingUploads(tmp_path, "azure://acct/container")
    pending.add(MODEL)
    pending.add(RECORD)
    pending.add(MODEL)  # the same entry twice is one marker
    again = PendingUploads(tmp_path, "azure://acct/container")
    assert sorted(u.describe() for u in again.all()) == ["model abababababab", "record evaluation/key/with:odd"]
    assert next(u for u in again.all() if u.kind == "model").info == {"pass_type": "ToyScale"}
    again.done(MODEL)
    assert again.all() == [RECORD] and pending.count() == 1
    assert PendingUploads(tmp_path, "azure://acct/other").all() == []  # another remote, another backlog


def test_a_run_resumes_only_what_no_open_cache_is_uploading(tmp_path):
    sibling = PendingUploads(tmp_path, "azure://acct/container")
    sibling.add(MODEL)
    resumer = PendingUploads(tmp_path, "azure://acct/container")
    assert resumer.all(orphaned_only=True) == []  # the sibling is still at it
    assert resumer.all() == [MODEL]  # `olive cache push` takes everything
    sibling.release()
    assert resumer.all(orphaned_only=True) == [MODEL]


def test_markers_of_a_finished_process_are_taken_over(tmp_path):
    finished = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    pending = PendingUploads(tmp_path, "azure://acct/container")
    owner = f"{socket.gethostname()}:{finished.stdout.strip()}:deadbeef"
    (pending.folder / MODEL.marker).write_text(json.dumps({"owner": owner, "kind": "model", "key": MODEL.key}))
    (pending.folder / "broken.json").write_text("{not json")  # a write killed half-way
    assert pending.all(orphaned_only=True) == [MODEL]
    assert not (pending.folder / "broken.json").exists()
