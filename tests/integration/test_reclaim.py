"""A 200 MiB file through awscli (which switches to multipart by itself),
then space reclaimed: after an overwrite, a delete and an aborted upload, and
once the block GC ran, the block files on disk are exactly those of the
objects that remain. (Expiry by lifecycle is counted the same way in
test_bucket_config.py::test_lifecycle_worker_expires_aborts_and_reclaims.)"""
from __future__ import annotations

import filecmp
import os
import time
from pathlib import Path

from harness import run
from test_clients import base_env, home, tool  # noqa: F401  (fixtures and helpers)

MIB = 1 << 20
NODE_CONFIG = {"block_gc_delay_secs": 1}


def wait_for(what, pred, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout}s: {what}")


def test_200_mib_awscli_then_space_returns_to_what_remains(node, cred, bucket, s3, tmp_path,
                                                          home):  # noqa: F811
    def blocks() -> set[Path]:
        return set(node.data_files())

    aws = tool("aws", ["/usr/bin/aws"])
    env = cred.aws_env(base_env(home))
    before = blocks()

    big = tmp_path / "big.bin"
    with open(big, "wb") as f:
        for _ in range(200):
            f.write(os.urandom(MIB))
    run([aws, *cred.aws_args(), "s3", "cp", str(big), f"s3://{bucket}/big.bin"], env=env,
        timeout=600, node=node)
    head = s3.head_object(Bucket=bucket, Key="big.bin")
    assert head["ContentLength"] == 200 * MIB
    assert head["ETag"].strip('"').count("-") == 1, "uploaded as multipart"
    back = tmp_path / "back.bin"
    run([aws, *cred.aws_args(), "s3", "cp", f"s3://{bucket}/big.bin", str(back)], env=env,
        timeout=600, node=node)
    assert filecmp.cmp(big, back, shallow=False)
    big_blocks = blocks() - before
    assert len(big_blocks) >= 200

    # What stays: a 3 MiB object.
    s3.put_object(Bucket=bucket, Key="keep.bin", Body=os.urandom(3 * MIB))
    kept = blocks() - before - big_blocks
    assert len(kept) >= 3

    # Overwrite the big object with a small (inline) one, delete another
    # object, abort an upload that has parts.
    s3.put_object(Bucket=bucket, Key="big.bin", Body=b"small now")
    s3.put_object(Bucket=bucket, Key="gone.bin", Body=os.urandom(2 * MIB))
    s3.delete_object(Bucket=bucket, Key="gone.bin")
    up = s3.create_multipart_upload(Bucket=bucket, Key="aborted.bin")["UploadId"]
    for n in (1, 2):
        s3.upload_part(Bucket=bucket, Key="aborted.bin", UploadId=up, PartNumber=n,
                       Body=os.urandom(5 * MIB))
    s3.abort_multipart_upload(Bucket=bucket, Key="aborted.bin", UploadId=up)

    wait_for("the block GC to leave only the blocks of what remains",
             lambda: blocks() - before == kept, timeout=120)
    assert s3.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == b"small now"
    assert s3.get_object(Bucket=bucket, Key="keep.bin")["ContentLength"] == 3 * MIB
    info = node.bucket_info(bucket)
    assert info["objects"] == 2
