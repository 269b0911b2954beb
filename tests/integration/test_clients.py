"""Real S3 clients against a real node: awscli, s3cmd, rclone and restic.

Files stay below 8 MiB so that no client switches to multipart uploads.
A test is skipped only when its client binary is not installed
(hack/deps.sh installs all of them)."""

from __future__ import annotations

import filecmp
import json
import os
import uuid
from pathlib import Path

import pytest

import harness
from harness import make_tree, run, tree_digest

TREE = {
    "a.txt": 0,
    "b.bin": 1,
    "small/inline.bin": 3000,
    "small/just-over.bin": 3073,
    "mid/one-mib.bin": 1 << 20,
    "mid/one-mib-plus.bin": (1 << 20) + 1,
    "deep/er/still/big.bin": 5 << 20,
    "names/with space.txt": 100,
    "names/plus+sign.txt": 50,
    "names/ünïcödé.txt": 70,
}


def tool(name: str, preferred=()) -> str:
    p = harness.find_tool(name, preferred)
    if p is None:
        pytest.skip(f"{name} is not installed (hack/deps.sh installs it)")
    return p


@pytest.fixture
def home(tmp_path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def base_env(home: Path) -> dict:
    """A small clean environment: no user config, caches in a temp HOME."""
    env = {k: v for k, v in os.environ.items() if k in ("PATH", "TMPDIR", "TZ")}
    env.setdefault("PATH", "/usr/local/bin:/usr/bin:/bin")
    env.update(HOME=str(home), LANG="C.UTF-8", LC_ALL="C.UTF-8",
               XDG_CACHE_HOME=str(home / ".cache"), XDG_CONFIG_HOME=str(home / ".config"))
    return env


# -- awscli ----------------------------------------------------------------------


def test_awscli(node, cred, bucket, tmp_path, home):
    aws = tool("aws", ["/usr/bin/aws"])
    env = cred.aws_env(base_env(home))

    def a(*args, **kw):
        return run([aws, *cred.aws_args(), *args], env=env, timeout=300, node=node, **kw)

    src = tmp_path / "src"
    make_tree(src, TREE, seed=1)

    # cp up and down, ls
    a("s3", "cp", str(src / "mid/one-mib-plus.bin"), f"s3://{bucket}/single/file.bin")
    out = a("s3", "ls", f"s3://{bucket}/single/").stdout.decode()
    assert "file.bin" in out and str((1 << 20) + 1) in out, out
    a("s3", "cp", f"s3://{bucket}/single/file.bin", str(tmp_path / "down.bin"))
    assert filecmp.cmp(src / "mid/one-mib-plus.bin", tmp_path / "down.bin", shallow=False)

    # sync a tree up and down
    a("s3", "sync", str(src), f"s3://{bucket}/tree/")
    out = a("s3", "ls", "--recursive", f"s3://{bucket}/tree/").stdout.decode()
    assert len([line for line in out.splitlines() if line.strip()]) == len(TREE), out
    dst = tmp_path / "dst"
    a("s3", "sync", f"s3://{bucket}/tree/", str(dst))
    assert tree_digest(dst) == tree_digest(src)
    # A second sync has nothing to do.
    out = a("s3", "sync", str(src), f"s3://{bucket}/tree/").stdout.decode()
    assert "upload:" not in out, out

    # s3api
    a("s3api", "put-object", "--bucket", bucket, "--key", "api/obj", "--body",
      str(src / "small/just-over.bin"), "--content-type", "text/x-aws", "--metadata", "k1=v1")
    h = json.loads(a("s3api", "head-object", "--bucket", bucket, "--key", "api/obj",
                     "--output", "json").stdout)
    assert h["ContentLength"] == 3073 and h["ContentType"] == "text/x-aws", h
    assert h["Metadata"] == {"k1": "v1"}, h
    lst = json.loads(a("s3api", "list-objects-v2", "--bucket", bucket, "--prefix", "api/",
                       "--output", "json").stdout)
    assert [o["Key"] for o in lst["Contents"]] == ["api/obj"]
    a("s3api", "get-object", "--bucket", bucket, "--key", "api/obj", "--range", "bytes=0-99",
      str(tmp_path / "part"))
    assert (tmp_path / "part").read_bytes() == (src / "small/just-over.bin").read_bytes()[:100]
    a("s3api", "delete-object", "--bucket", bucket, "--key", "api/obj")
    r = a("s3api", "head-object", "--bucket", bucket, "--key", "api/obj", check=False)
    assert r.returncode != 0 and b"404" in r.stderr, r.stderr

    # rm --recursive
    a("s3", "rm", "--recursive", f"s3://{bucket}/tree/")
    out = a("s3", "ls", "--recursive", f"s3://{bucket}/").stdout.decode()
    assert "tree/" not in out, out

    # mb / rb
    nb = f"aws-{uuid.uuid4().hex[:8]}"
    a("s3", "mb", f"s3://{nb}")
    assert nb in a("s3", "ls").stdout.decode()
    a("s3", "rb", f"s3://{nb}")
    assert nb not in a("s3", "ls").stdout.decode()


# -- s3cmd -----------------------------------------------------------------------


def test_s3cmd(node, cred, tmp_path, home):
    s3cmd = tool("s3cmd")
    cfg = cred.s3cmd_config(tmp_path / "s3cfg")
    env = base_env(home)

    def s(*args, **kw):
        return run([s3cmd, "-c", str(cfg), *args], env=env, timeout=300, node=node, **kw)

    b = f"s3cmd-{uuid.uuid4().hex[:8]}"
    src = tmp_path / "src"
    files = make_tree(src, {"f1.bin": 4000, "f2.bin": 2 << 20, "e.bin": 0}, seed=2)
    s("mb", f"s3://{b}")
    assert f"s3://{b}" in s("ls").stdout.decode()
    for name in files:
        s("put", str(src / name), f"s3://{b}/dir/{name}")
    out = s("ls", f"s3://{b}/dir/").stdout.decode()
    for name in files:
        assert f"s3://{b}/dir/{name}" in out, out
    out = s("ls", "--recursive", f"s3://{b}").stdout.decode()
    assert out.count(f"s3://{b}/dir/") == len(files), out
    for name, data in files.items():
        dst = tmp_path / f"got-{name}"
        s("get", f"s3://{b}/dir/{name}", str(dst))
        assert dst.read_bytes() == data, name
    info = s("info", f"s3://{b}/dir/f1.bin").stdout.decode()
    assert "4000" in info, info
    for name in files:
        s("del", f"s3://{b}/dir/{name}")
    assert s("ls", "--recursive", f"s3://{b}").stdout.decode().strip() == ""
    s("rb", f"s3://{b}")
    assert f"s3://{b}" not in s("ls").stdout.decode()


# -- rclone ----------------------------------------------------------------------


def test_rclone(node, cred, bucket, tmp_path, home):
    rclone = tool("rclone")
    env = cred.rclone_env("garage", base_env(home))

    def rc(*args, **kw):
        return run([rclone, "--retries", "1", "--low-level-retries", "2", "--contimeout", "10s",
                    "--timeout", "60s", *args], env=env, timeout=300, node=node, **kw)

    src = tmp_path / "src"
    make_tree(src, TREE, seed=3)
    rc("sync", str(src), f"garage:{bucket}/tree")
    rc("check", str(src), f"garage:{bucket}/tree")
    dst = tmp_path / "dst"
    rc("sync", f"garage:{bucket}/tree", str(dst))
    assert tree_digest(dst) == tree_digest(src)
    rc("check", str(dst), f"garage:{bucket}/tree")
    out = rc("lsf", "-R", f"garage:{bucket}/tree").stdout.decode().split("\n")
    assert sorted(x for x in out if x and not x.endswith("/")) == sorted(TREE)

    # Change the source (modify, delete, add) and sync again: the bucket follows.
    (src / "a.txt").write_bytes(b"changed")
    (src / "b.bin").unlink()
    (src / "new/file.txt").parent.mkdir()
    (src / "new/file.txt").write_bytes(b"new file")
    rc("sync", str(src), f"garage:{bucket}/tree")
    rc("check", str(src), f"garage:{bucket}/tree")
    # rclone check must fail when the two sides differ.
    r = rc("check", str(dst), f"garage:{bucket}/tree", check=False)
    assert r.returncode != 0, "rclone check passed on differing trees"
    rc("purge", f"garage:{bucket}/tree")
    assert rc("lsf", "-R", f"garage:{bucket}").stdout.decode().strip() == ""


# -- restic ----------------------------------------------------------------------


def test_restic(node, cred, bucket, tmp_path, home):
    restic = tool("restic")
    env = cred.restic_env(bucket, prefix="repo", base=base_env(home))

    def r(*args, **kw):
        return run([restic, *cred.restic_args(), *args], env=env, timeout=600, node=node, **kw)

    data = tmp_path / "data"
    files = {f"d{i % 4}/file{i:02d}.bin": (i * 97_531) % (3 << 20) + i for i in range(24)}
    files.update({"empty": 0, "tiny": 1, "big.bin": 7 << 20})
    make_tree(data, files, seed=4)
    r("init")
    r("backup", str(data))
    snaps = json.loads(r("snapshots", "--json").stdout)
    assert len(snaps) == 1
    r("check")
    target = tmp_path / "restore"
    r("restore", "latest", "--target", str(target))
    restored = target / data.relative_to("/")
    cmp = filecmp.dircmp(data, restored)
    assert tree_digest(restored) == tree_digest(data), (cmp.left_only, cmp.right_only,
                                                       cmp.diff_files)

    # A second backup after changes, then restore it and check again.
    (data / "d0/file00.bin").write_bytes(os.urandom(12345))
    (data / "tiny").unlink()
    r("backup", str(data))
    assert len(json.loads(r("snapshots", "--json").stdout)) == 2
    r("check", "--read-data")
    target2 = tmp_path / "restore2"
    r("restore", "latest", "--target", str(target2))
    assert tree_digest(target2 / data.relative_to("/")) == tree_digest(data)
    # A wrong password is refused.
    bad = dict(env, RESTIC_PASSWORD="wrong")
    p = run([restic, *cred.restic_args(), "snapshots"], env=bad, timeout=120, check=False,
            node=node)
    assert p.returncode != 0
