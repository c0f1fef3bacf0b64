"""Scale-out scan across "real hosts": a dask-scheduler and two dask-workers,
each in its own network namespace, joined by veth pairs on a bridge with
private 10.x addresses that this test creates (and always removes).

The client runs in the root namespace. If the machine forbids namespaces
(no CAP_SYS_ADMIN, no iproute2), the test is skipped with the exact reason.
"""

import os
import shutil
import socket
import subprocess
import sys
import time

import pytest

from telltale import dask as tdask

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import dask_corpus  # noqa: E402
from test_dask_scan import PARTITION_BYTES, check_same, corpus, keys, reference  # noqa: E402,F401

TAG = "tt%d" % (os.getpid() % 100000)
SUBNET = "10.%d.%d" % (100 + os.getpid() % 100, os.getpid() // 100 % 250)
NAMESPACES = {"sched": 2, "w1": 3, "w2": 4}


def ip(*args, ns=None, check=True):
    cmd = (["ip", "netns", "exec", ns] if ns else []) + ["ip"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, check=check, timeout=30)


def teardown():
    for name in NAMESPACES:
        subprocess.run(["ip", "netns", "del", "%s-%s" % (TAG, name)], capture_output=True, timeout=30)
        subprocess.run(["ip", "link", "del", "%s-%s" % (TAG, name)], capture_output=True, timeout=30)
    subprocess.run(["ip", "link", "del", TAG + "-br"], capture_output=True, timeout=30)


def setup_network():
    if shutil.which("ip") is None:
        pytest.skip("iproute2's `ip` is not installed; cannot create network namespaces")
    r = subprocess.run(["ip", "netns", "add", TAG + "-sched"], capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.skip("cannot create a network namespace (`ip netns add` failed: %s)" % r.stderr.strip())
    ip("link", "add", TAG + "-br", "type", "bridge")
    ip("addr", "add", SUBNET + ".1/24", "dev", TAG + "-br")
    ip("link", "set", TAG + "-br", "up")
    for name, host in NAMESPACES.items():
        ns = "%s-%s" % (TAG, name)
        if name != "sched":
            ip("netns", "add", ns)
        outer, inner = "%s-%s" % (TAG, name), "%s-%si" % (TAG, name[:2])
        ip("link", "add", outer, "type", "veth", "peer", "name", inner)
        ip("link", "set", inner, "netns", ns)
        ip("link", "set", outer, "master", TAG + "-br")
        ip("link", "set", outer, "up")
        ip("addr", "add", "%s.%d/24" % (SUBNET, host), "dev", inner, ns=ns)
        ip("link", "set", inner, "up", ns=ns)
        ip("link", "set", "lo", "up", ns=ns)


def wait_port(host, port, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection((host, port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("scheduler %s:%d did not come up" % (host, port))


def test_scheduler_and_workers_in_separate_namespaces(corpus, reference, tmp_path):  # noqa: F811
    from distributed import Client

    procs = []
    try:
        setup_network()
        env = dict(os.environ, DASK_DISTRIBUTED__WORKER__DAEMON="False")
        sched_ip = SUBNET + ".2"
        logs = []

        def start(ns, cmd):
            log = open(str(tmp_path / (ns + ".log")), "w")
            logs.append(log)
            procs.append(subprocess.Popen(["ip", "netns", "exec", ns] + cmd, env=env, stdout=log,
                                          stderr=subprocess.STDOUT, start_new_session=True))

        start(TAG + "-sched", ["/usr/bin/python3", "-m", "distributed.cli.dask_scheduler", "--host", sched_ip,
                               "--port", "8786", "--no-dashboard"])
        wait_port(sched_ip, 8786, 60)
        for name in ("w1", "w2"):
            start("%s-%s" % (TAG, name), ["/usr/bin/python3", "-m", "distributed.cli.dask_worker",
                                          "tcp://%s:8786" % sched_ip, "--host",
                                          "%s.%d" % (SUBNET, NAMESPACES[name]), "--nthreads", "1",
                                          "--no-dashboard", "--no-nanny"])
        with Client("tcp://%s:8786" % sched_ip, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
            hosts = sorted(w["host"] for w in client.scheduler_info()["workers"].values())
            assert hosts == ["%s.3" % SUBNET, "%s.4" % SUBNET]
            spec = tdask.make_spec(keys(corpus), dask_corpus.SCHEME, os.path.join(corpus, "chars.json"))
            res = tdask.scan_dask(client, os.path.join(corpus, "corpus"), spec, shard_dir=str(tmp_path / "s"),
                                  partition_bytes=PARTITION_BYTES, buckets=4)
            check_same(reference, list(res.records()))
    finally:
        for p in procs:
            try:
                os.killpg(p.pid, 15)
            except ProcessLookupError:
                pass
        for p in procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, 9)
                p.wait()
        teardown()
