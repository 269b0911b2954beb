"""Starts one container process of the kubelet stand-in (kubelet.py).

Run as `unshare --mount --propagation private -- python3 nsexec.py SPEC.json`:
in its private mount namespace it bind-mounts the pod's volumes at their
mount paths (creating missing mount points), asks to be killed when the
kubelet dies (PR_SET_PDEATHSIG), changes to the working directory and execs
the container's command with the container's environment. `unshare` without
--fork execs, so the PID the kubelet started is the container's process.

SPEC: {"argv": [...], "env": {...}, "workingDir": "/", "mounts": [{"source",
"target", "readOnly", "file"}]}. Exit 127: command not found; 128: a mount failed.
"""
import ctypes
import json
import os
import signal
import sys

MS_RDONLY = 1
MS_REMOUNT = 32
MS_BIND = 4096
MS_REC = 16384
PR_SET_PDEATHSIG = 1


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    for m in sorted(spec.get('mounts') or [], key=lambda m: m['target'].count('/')):
        src, dst = m['source'], m['target']
        try:
            if m.get('file'):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                if not os.path.exists(dst):
                    open(dst, 'a').close()
            else:
                os.makedirs(dst, exist_ok=True)
        except OSError as e:
            sys.stderr.write('nsexec: cannot create mount point %s: %s\n' % (dst, e))
            sys.exit(128)
        if libc.mount(src.encode(), dst.encode(), None, MS_BIND | MS_REC, None) != 0:
            sys.stderr.write('nsexec: mount %s on %s: %s\n' % (src, dst, os.strerror(ctypes.get_errno())))
            sys.exit(128)
        if m.get('readOnly') and \
                libc.mount(None, dst.encode(), None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_REC, None) != 0:
            sys.stderr.write('nsexec: read-only remount of %s: %s\n' % (dst, os.strerror(ctypes.get_errno())))
            sys.exit(128)
    env = spec.get('env') or {}
    argv = spec['argv']
    exe = argv[0]
    if '/' not in exe:
        for d in env.get('PATH', os.defpath).split(':'):
            if d and os.access(os.path.join(d, exe), os.X_OK):
                exe = os.path.join(d, exe)
                break
    try:
        os.chdir(spec.get('workingDir') or '/')
    except OSError as e:
        sys.stderr.write('nsexec: working directory %s: %s\n' % (spec.get('workingDir'), e))
        sys.exit(128)
    try:
        os.execve(exe, argv, env)
    except OSError as e:
        sys.stderr.write('nsexec: exec %s: %s\n' % (argv[0], e))
        sys.exit(127)


if __name__ == '__main__':
    main()
