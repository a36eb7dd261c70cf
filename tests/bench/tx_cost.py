#!/usr/bin/env python3
"""tests/bench/tx_cost.py — what sluice-tx alone costs per GB of payload, per thread.

sluice-tx sends one pass of a signed transfer (AEAD on, FEC overhead 12.5%,
SHA-256 re-check on) into a sink that takes datagrams and does nothing
with them, and this prints its core-seconds (user + system, getrusage of
the child) per GB (10^9 bytes) of payload, its wall time and wire rate,
and where the CPU time went by thread (sampled from /proc/PID/task/*/stat
every 20 ms; threads are named: the main thread paces and sends,
tx-producer reads and hashes in order and shares compression, FEC and
sealing with the tx-worker helpers).

Sinks (--sink):
  bridge   udp to an address in another network namespace, across veths
           and a Linux bridge (tests/bench/netns.py), where nothing
           listens: the kernel's full send path, the receiving side's
           dropped at the UDP port (root only)
  pcap     pcap:/dev/null (frames built and written, no network)
Several --bindir (e.g. a build of main and one of a branch) run
alternately, --runs times each, and the table gives each one's best
(least CPU) run: other load on the machine only ever adds.

Usage: tx_cost.py --bindir BUILD [--bindir BUILD2] [--size 1G] [--rate 3G]
                  [--sink bridge|pcap] [--runs 3] [--tx-arg ARG]... [--tmp DIR]
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402
from e2e import parse_size, parse_rate, fmt_rate, gen_random  # noqa: E402

GB = 1e9
TICK = os.sysconf("SC_CLK_TCK")


def make_transfer(sluice, w, size):
    env = dict(os.environ, SLUICE_PASSPHRASE="unused")
    log = open(os.path.join(w, "setup.log"), "ab")

    def run(*argv):
        subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, check=True, timeout=900, env=env)

    run(sluice, "keygen", "--link", "-o", w + "/link.key")
    for k in ("alice", "dana"):
        run(sluice, "keygen", "--officer" if k == "alice" else "--submitter", k, "-o", w + "/" + k,
            "--unencrypted")
    t = os.path.join(w, "T")
    os.makedirs(t + "/data")
    gen_random(t + "/data/blob.bin", size)
    run(sluice, "manifest", "create", t + "/data", "--submitter", "dana", "--purpose", "tx cost",
        "--sequence", "1", "--enclave", "lab", "--link", "bench", "-o", t + "/manifest")
    for k in ("alice", "dana"):
        run(sluice, "manifest", "sign", t + "/manifest", "--key", w + "/" + k + ".key")
    os.sync()
    return t, w + "/link.key"


def threads(pid, seen):
    """Per thread (tid): (name, user + system seconds), latest sample kept."""
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return
    for tid in tids:
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                st = f.read()
        except OSError:
            continue
        name = "sender (main)" if tid == str(pid) else st[st.index("(") + 1:st.rindex(")")]
        f = st[st.rindex(")") + 2:].split()
        seen[tid] = (name, (int(f[11]) + int(f[12])) / TICK)


def one_run(a, bindir, t, key, net, w):
    tx = os.path.join(bindir, "tx", "sluice-tx")
    link = "udp://%s:4747" % netns.RX_ADDR if net else "pcap:/dev/null"
    argv = [tx, "send", "--link", link, "--key", key, "--rate", fmt_rate(a.rate) if a.rate else "unlimited",
            "--overhead", "12.5", "--no-progress", "-q"] + a.tx_args + [t]
    if net:
        argv = net.wrap("tx", argv)
    logp = os.path.join(w, "tx.log")
    with open(logp, "wb") as log:
        t0 = time.monotonic()
        p = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        seen = {}
        deadline = t0 + 900
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                break
            threads(p.pid, seen)
            if time.monotonic() > deadline:
                p.kill()
                p.wait()
                raise RuntimeError("sluice-tx did not finish in 900 s")
            time.sleep(0.02)
        wall = time.monotonic() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        with open(logp, errors="replace") as f:
            raise RuntimeError("sluice-tx failed: " + f.read()[-500:])
    sent = ""
    with open(logp) as f:
        for line in f:
            if line.startswith("sent "):
                sent = [x for x in line.strip().split(", ") if "on the wire" in x]
                sent = sent[0] if sent else ""
    by = {}
    for name, cs in seen.values():
        by[name] = by.get(name, 0.0) + cs
    return dict(cpu=ru.ru_utime + ru.ru_stime, user=ru.ru_utime, sys=ru.ru_stime, wall=wall,
                sent=sent, threads=by)


def load():
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bindir", action="append", required=True)
    ap.add_argument("--size", default="1G")
    ap.add_argument("--rate", default="3G", help="bit/s (k/M/G = 1000^n) or unlimited")
    ap.add_argument("--sink", default="bridge", choices=("bridge", "pcap"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--tx-arg", action="append", default=[], dest="tx_args")
    ap.add_argument("--tmp", default=os.environ.get("TMPDIR", "/var/tmp"))
    a = ap.parse_args()
    a.size = parse_size(a.size)
    a.rate = parse_rate(a.rate)
    w = tempfile.mkdtemp(prefix="sluice-txcost-", dir=a.tmp)
    net = None
    try:
        t, key = make_transfer(os.path.join(a.bindir[0], "tools", "sluice"), w, a.size)
        if a.sink == "bridge":
            net = netns.Bridge(tag="sl-txcost")
        best = {}
        for i in range(a.runs):
            for b in a.bindir:
                r = one_run(a, b, t, key, net, w)
                r["load"] = load()
                sys.stderr.write("# %s run %d: %.2f core-s, %.2f s, %s, load %s\n" % (
                    b, i + 1, r["cpu"], r["wall"], r["sent"], r["load"]))
                if b not in best or r["cpu"] < best[b]["cpu"]:
                    best[b] = r
        gb = a.size / GB
        print("sluice-tx alone, one pass, %s, %.2f GB of random payload, sink %s, best of %d" % (
            fmt_rate(a.rate), gb, a.sink, a.runs))
        print("%-32s %8s %8s %8s %8s  %s" % ("bindir", "cs/GB", "user", "sys", "wall s", "threads cs/GB"))
        for b in a.bindir:
            r = best[b]
            th = ", ".join("%s %.2f" % (n, cs / gb) for n, cs in sorted(r["threads"].items(), key=lambda x: -x[1]))
            print("%-32s %8.2f %8.2f %8.2f %8.2f  %s; %s, load %s" % (
                b[-32:], r["cpu"] / gb, r["user"] / gb, r["sys"] / gb, r["wall"], th, r["sent"], r["load"]))
    finally:
        if net:
            net.close()
        shutil.rmtree(w, ignore_errors=True)


if __name__ == "__main__":
    main()
