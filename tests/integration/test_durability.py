"""Durability of a real node across restarts: a clean stop (SIGTERM) keeps
everything; a SIGKILL in the middle of a stream of concurrent PUTs keeps
every PUT that had been answered 200, byte for byte, and leaves any PUT whose
answer never came either absent/old or complete — never corrupt."""

from __future__ import annotations

import hashlib
import random
import threading
import time

import pytest
from botocore.exceptions import ClientError

import harness


def sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def read_all(s3, bucket: str) -> dict[str, bytes]:
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for o in page.get("Contents", []):
            body = s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
            assert o["Size"] == len(body), f"{o['Key']}: listed size {o['Size']}, read {len(body)}"
            out[o["Key"]] = body
    return out


def test_restart_keeps_everything(garage_binary):
    with harness.node() as n:
        cred = n.key_and_bucket("keep")
        s3 = cred.boto3_client()
        rng = random.Random(11)
        objects = {}
        for i, size in enumerate([0, 1, 100, 3072, 3073, 65536, 1 << 20, (1 << 20) + 7, 3 << 20]):
            key = f"obj/{i:02d}"
            objects[key] = rng.randbytes(size)
            s3.put_object(Bucket="keep", Key=key, Body=objects[key],
                          Metadata={"index": str(i)}, ContentType="application/x-test")
        s3.delete_object(Bucket="keep", Key="obj/03")
        del objects["obj/03"]
        heads = {k: s3.head_object(Bucket="keep", Key=k) for k in objects}

        for round_ in range(2):
            rc = n.stop()
            assert rc == 0, f"garage exited with {rc} on SIGTERM:\n{n.log_tail()}"
            n.start()
            s3 = cred.boto3_client()  # the key survives the restart
            got = read_all(s3, "keep")
            assert sorted(got) == sorted(objects), f"round {round_}: keys differ"
            for k, v in objects.items():
                assert sha(got[k]) == sha(v), f"round {round_}: {k} differs"
                h = s3.head_object(Bucket="keep", Key=k)
                assert h["ETag"] == heads[k]["ETag"], k
                assert h["Metadata"] == {"index": k[-2:].lstrip("0") or "0"}, k
                assert h["ContentType"] == "application/x-test", k
                assert h["LastModified"] == heads[k]["LastModified"], k
        # Still writable after restarts.
        s3.put_object(Bucket="keep", Key="after", Body=b"after")
        assert s3.get_object(Bucket="keep", Key="after")["Body"].read() == b"after"
        assert "keep" in [b["Name"] for b in s3.list_buckets()["Buckets"]]


class _writer(threading.Thread):
    """PUTs random sizes to its own keys until stopped or the node dies.

    history[key] is the ordered list of (sha256, acked) of every PUT attempted
    on that key; only the last attempt can be un-acked (writes are sequential).
    """

    def __init__(self, idx: int, cred, bucket: str, stop: threading.Event):
        super().__init__(daemon=True)
        self.idx, self.bucket, self.stop = idx, bucket, stop
        self.s3 = cred.boto3_client(connect_timeout=5, read_timeout=30)
        self.rng = random.Random(1000 + idx)
        self.keys = [f"w{idx}/k{j}" for j in range(5)]
        self.history: dict[str, list[tuple[str, bool]]] = {k: [] for k in self.keys}
        self.acked = 0
        self.failed: list[str] = []

    def run(self):
        while not self.stop.is_set():
            key = self.rng.choice(self.keys)
            size = self.rng.randint(1 << 10, 3 << 20)
            data = self.rng.randbytes(size)
            entry = [sha(data), False]
            self.history[key].append(entry)
            try:
                r = self.s3.put_object(Bucket=self.bucket, Key=key, Body=data)
            except ClientError as e:
                self.failed.append(f"{key}: {e}")
                return
            except Exception:  # connection reset / refused: the node was killed
                return
            if r["ResponseMetadata"]["HTTPStatusCode"] == 200 and \
                    r["ETag"] == '"' + hashlib.md5(data).hexdigest() + '"':
                entry[1] = True
                self.acked += 1
            else:
                self.failed.append(f"{key}: unexpected answer {r['ResponseMetadata']}")
                return


@pytest.mark.parametrize("run_secs", [4.0])
def test_kill9_during_concurrent_puts(garage_binary, run_secs):
    fsync = {"metadata_fsync": True, "data_fsync": True}
    with harness.node(config_overrides=fsync) as n:
        cred = n.key_and_bucket("crash")
        s3 = cred.boto3_client()
        # Objects written before the stream must survive untouched.
        rng = random.Random(5)
        before = {f"pre/{i}": rng.randbytes(rng.choice([10, 5000, 1 << 20, 2 << 20]))
                  for i in range(8)}
        for k, v in before.items():
            s3.put_object(Bucket="crash", Key=k, Body=v)

        stop = threading.Event()
        writers = [_writer(i, cred, "crash", stop) for i in range(8)]
        for w in writers:
            w.start()
        time.sleep(run_secs)
        n.kill9()
        stop.set()
        for w in writers:
            w.join(60)
            assert not w.is_alive(), "a writer hung after the kill"
        failures = [f for w in writers for f in w.failed]
        assert not failures, f"PUTs failed before the kill: {failures[:5]}"
        acked = sum(w.acked for w in writers)
        assert acked > 0, "no PUT was acknowledged before the kill: nothing was tested"

        in_flight_at_kill = sum(1 for w in writers for h in w.history.values() if h and not h[-1][1])
        print(f"kill -9 after {acked} acknowledged PUTs, {in_flight_at_kill} in flight")
        n.start()
        s3 = cred.boto3_client()
        got = read_all(s3, "crash")
        for k, v in before.items():
            assert k in got and sha(got[k]) == sha(v), f"pre-existing {k} lost or changed"

        problems = []
        in_flight = 0
        for w in writers:
            for key, hist in w.history.items():
                if not hist:
                    continue
                last_acked = max((i for i, (_, ok) in enumerate(hist) if ok), default=None)
                allowed = [h for h, _ in hist[last_acked:]] if last_acked is not None else \
                    [h for h, _ in hist]
                unacked_tail = last_acked is None or last_acked < len(hist) - 1
                in_flight += unacked_tail
                if key not in got:
                    if last_acked is not None:
                        problems.append(f"{key}: acked write lost (object missing)")
                    continue
                h = sha(got[key])
                if h not in allowed:
                    older = [x for x, _ in hist[:last_acked or 0]]
                    what = "an older acked version" if h in older else "corrupt content"
                    problems.append(f"{key}: reads {what} ({len(got[key])} bytes); "
                                    f"{len(hist)} writes, last acked #{last_acked}")
                # The ETag must describe the content that is read.
                etag = s3.head_object(Bucket="crash", Key=key)["ETag"]
                if etag != '"' + hashlib.md5(got[key]).hexdigest() + '"':
                    problems.append(f"{key}: ETag {etag} does not match content")
        extra = set(got) - set(before) - {k for w in writers for k in w.keys}
        assert not extra, f"unexpected keys after restart: {sorted(extra)[:5]}"
        assert not problems, (f"{len(problems)} problems ({acked} acked PUTs, {in_flight} "
                              f"in flight at the kill):\n" + "\n".join(problems[:20]))

        # The node is fully usable after the crash.
        s3.put_object(Bucket="crash", Key="after", Body=b"after")
        assert s3.get_object(Bucket="crash", Key="after")["Body"].read() == b"after"
        n.restart()
        s3 = cred.boto3_client()
        assert read_all(s3, "crash") == {**got, "after": b"after"}


def test_kill9_right_after_acks_without_fsync(garage_binary):
    """A process crash (not an OS crash) must not lose acknowledged writes even
    with fsync off: the data is in the page cache once the PUT is answered."""
    with harness.node() as n:
        cred = n.key_and_bucket("nofsync")
        s3 = cred.boto3_client()
        rng = random.Random(9)
        objs = {f"k{i}": rng.randbytes(rng.choice([0, 7, 3000, 200_000, 1 << 20, 1_500_000]))
                for i in range(30)}
        for k, v in objs.items():
            s3.put_object(Bucket="nofsync", Key=k, Body=v)
        s3.delete_object(Bucket="nofsync", Key="k0")
        del objs["k0"]
        n.kill9()
        n.start()
        got = read_all(cred.boto3_client(), "nofsync")
        assert sorted(got) == sorted(objs)
        bad = [k for k in objs if sha(got[k]) != sha(objs[k])]
        assert not bad, f"changed after kill -9: {bad}"
