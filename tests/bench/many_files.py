#!/usr/bin/env python3
"""tests/bench/many_files.py — N small files through `sluice linksim`, one pass.

One command, prints a table. It makes N files of 1-8 KiB (random bytes, 1,000
to a directory; N=1,000,000 by default), a signed manifest of them, then
sends them once with sluice-tx through `sluice linksim` (--rate R, 1% loss
by default) to sluice-rx over 127.0.0.1 and reports:

  send      seconds sluice-tx took (its pacing is --rate, 1.0 of the link's)
  release   seconds from the start of the send until RELEASE/<id> exists
  files/s   N / release
  goodput   payload bytes / release, Mbit/s
  rx RSS    rx's peak resident set (VmHWM, MiB)
  kernel    rx's own count of datagrams its socket dropped (SO_RXQ_OVFL,
            status kernel_drops), and the deltas of /proc/net/snmp
            Udp RcvbufErrors / InErrors over the run (system-wide)
  ring      linksim's queue overflow drops (its model, not rx)
  writer    rx's writer queue: peak bytes and chunks refused (queue full and
            spill at --writer-spill)
  spilled   chunks spilled to the stream file at a full queue (moved into
            their files by the writer later), and the spill's peak bytes
  load      the 1-minute load average before the run (2 shared cores here)
  rx held   seconds rx's receive thread spent on the release (its log line;
            marked * from a sluice-rx that released in line: its whole
            release, "verified in S s")

With --perf, `perf record` samples sluice-rx during the transfer and the top
symbols of its receive thread (the thread whose id is the process id) and of
the other threads are printed, with the receive thread's samples per 1,000
datagrams. Every process it starts is stopped by PID, its directory removed
(unless --keep), every wait bounded. Run by hand, not a test:

  tests/bench/many_files.py --bindir build [--files 1000000] [--rate 1G]
        [--loss 1%] [--tmp /tmp] [--data DIR] [--perf] [--keep]

--data DIR reuses (or makes, and keeps) the files and signed manifest there.

Measured on the 2 shared cores of the development VM (ext4 /tmp, warm page
cache), 1 Gbit/s asked, 1% loss. Since sluice-tx reads the small files on all
its workers in io_uring batches (--file-io auto; issue 12), it sends them at
~16,000 files/s here and rx's writer is the limit:
  1,000,000 files, load 1.5, with the release on its own thread and chunks
    handed to rx's writer without a copy (2294346): send 54.1 s, one pass,
    released in 84.1 s (11,886 files/s), 0 kernel drops, 0 ring, 0 refused,
    10,116 chunks spilled (peak 1.4 GB), rx RSS 463 MiB, rx held 0.19 s
  1,000,000 files, load 2.1: send 62.4 s, one pass, released in 142.4 s (7,025
    files/s), 0 kernel drops, 18,300 chunks spilled (peak 3.1 GB), 0 refused;
    before (3d88f49, load 5.1): send 154.6 s, released in 172.9 s (5,783 files/s)
  1,000,000 files, load 5.1 (another bench running): send 58.3 s, but rx
    dropped 6,172 datagrams in its socket and 240 blocks were missing: not
    released in one pass (a repeat pass or repair completes it)
  200,000 files, load 4.7: send 11.8-12.4 s, released in 23.9-52.9 s (rx);
    before (3d88f49, load 3.7-4.8): send 18.2-20.3 s, released in 30.4-37.5 s
Before that sluice-tx itself reached only ~175-350 Mbit/s reading small files:
  1,000,000 files, load 1.5: one pass, 110 s (9,100 files/s), rx RSS 404 MiB,
    0 kernel drops, 528 chunks spilled (peak 94 MB), 0 refused; before
    (bdbaefb, load 2.2): 1,071 chunks refused, not released in one pass
  200,000 files, load 1.3: one pass, 23.4 s (8,564 files/s), rx RSS 99 MiB
  200,000 files, load 5.8: one pass, 34.3 s (5,831 files/s), rx RSS 102 MiB,
    0 kernel drops, 144 chunks spilled (peak 25 MB), 0 refused; before the
    spill (bdbaefb, load 4.1): 605 chunks refused by the full writer queue,
    not released in one pass
  1,000,000 files, load 5.9: one pass, 213 s (4,703 files/s), rx RSS 450 MiB,
    0 kernel drops (rx's count), 909 chunks spilled (peak 134 MB), 0 refused;
    before (bdbaefb, load 5.7): 34,531 kernel drops (catalog verified on the
    receive thread) and 4,198 chunks refused: not released in one pass
  100,000 files, load 9.1: one pass, 19 s, 0 drops; before the writer thread
    (c195ae1, load 5.1): nothing released, 24,097 RcvbufErrors
"""
import argparse
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from e2e import Procs, free_port, tail, Stop, on_signal  # noqa: E402


def snmp():
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Udp:")]
    hdr, val = lines[0], lines[1]
    return int(val[hdr.index("RcvbufErrors")]), int(val[hdr.index("InErrors")])


def status_fields(path):
    out = {}
    try:
        with open(path) as f:
            for l in f:
                k, _, v = l.rstrip("\n").partition(" ")
                out[k] = v
    except OSError:
        pass
    return out


def kv(line, key):
    for p in line.split():
        if p.startswith(key + "="):
            return p.split("=", 1)[1]
    return "?"


class Bench:
    def __init__(self, a):
        self.a = a
        self.procs = Procs()
        self.sluice = os.path.join(a.bindir, "tools", "sluice")
        self.tx = os.path.join(a.bindir, "tx", "sluice-tx")
        self.rx = os.path.join(a.bindir, "rx", "sluice-rx")
        self.w = tempfile.mkdtemp(prefix="sluice-many-", dir=a.tmp)
        self.data = a.data or os.path.join(self.w, "T")
        self.log = os.path.join(self.w, "bench.log")
        self.env = dict(os.environ, SLUICE_PASSPHRASE="unused")

    def run(self, argv):
        with open(self.log, "ab") as f:
            subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, check=True, timeout=1800,
                           env=self.env)

    def prepare(self):
        """Keys, policy, files and signed manifest (kept in --data DIR)."""
        k = self.data + "/keys"
        t = self.data + "/T"
        if os.path.exists(t + "/manifest.done"):
            return k, t
        shutil.rmtree(self.data + "/T", ignore_errors=True)
        shutil.rmtree(k, ignore_errors=True)
        os.makedirs(k)
        self.run([self.sluice, "keygen", "--link", "-o", k + "/link.key"])
        for o in ("alice", "bob"):
            self.run([self.sluice, "keygen", "--officer", o, "-o", k + "/" + o, "--unencrypted"])
        self.run([self.sluice, "keygen", "--submitter", "dana", "-o", k + "/dana", "--unencrypted"])
        self.run([self.sluice, "policy", "create", "--officer", k + "/alice.pub", "--officer",
                  k + "/bob.pub", "--threshold", "2", "--submitter", k + "/dana.pub", "--enclave", "lab",
                  "--link", "bench", "--sequence-window", "1000", "--max-files", str(self.a.files + 10),
                  "--max-manifest-bytes", str(max(64 << 20, self.a.files * 160)), "-o", k + "/policy"])
        t0 = time.monotonic()
        rng = random.Random(4747)
        for i in range(self.a.files):
            d = os.path.join(t, "data", "d%04d" % (i // 1000))
            if i % 1000 == 0:
                os.makedirs(d)
            with open(os.path.join(d, "f%07d" % i), "wb") as f:
                f.write(rng.randbytes(rng.randint(1024, 8192)))
        sys.stderr.write("# %d files made in %.0f s\n" % (self.a.files, time.monotonic() - t0))
        t0 = time.monotonic()
        self.run([self.sluice, "manifest", "create", t + "/data", "--submitter", "dana", "--purpose",
                  "many files", "--sequence", "1", "--enclave", "lab", "--link", "bench",
                  "-o", t + "/manifest"])
        for s in ("alice", "bob", "dana"):
            self.run([self.sluice, "manifest", "sign", t + "/manifest", "--key", k + "/" + s + ".key"])
        sys.stderr.write("# manifest (%d bytes) made and signed in %.0f s\n" % (
            os.path.getsize(t + "/manifest"), time.monotonic() - t0))
        open(t + "/manifest.done", "w").close()
        os.sync()
        return k, t

    def transfer(self, k, t):
        a = self.a
        with open(t + "/manifest") as f:
            xid = [l.split()[1] for l in f if l.startswith("id ")][0]
        nbytes = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(t + "/data")
                     for fn in fns)
        run = os.path.join(self.w, "run")
        os.makedirs(run)
        state, rel = run + "/state", run + "/rel"
        port, txport = free_port(), free_port()
        rxp = self.procs.start([self.rx, "--link", "udp://127.0.0.1:%d" % port, "--key", k + "/link.key",
                                "--policy", k + "/policy", "--state", state, "--release", rel,
                                "--timeout", "120", "--tail-grace", "10"] + a.rx_args, run + "/rx.log")
        deadline = time.monotonic() + 10
        while not os.path.exists(state + "/status"):
            if time.monotonic() > deadline or rxp.poll() is not None:
                raise RuntimeError("sluice-rx did not start: " + tail(run + "/rx.log"))
            time.sleep(0.05)
        lsp = self.procs.start([self.sluice, "linksim", "--in", "udp://127.0.0.1:%d" % txport, "--out",
                                "udp://127.0.0.1:%d" % port, "--rate", a.rate, "--queue", "4M",
                                "--loss", a.loss, "--seed", "7", "--idle-exit", "60"], run + "/linksim.log")
        time.sleep(0.5)
        perf = None
        if a.perf:
            perf = self.procs.start(["perf", "record", "-F", "499", "-s", "-g", "-o", run + "/perf.data",
                                     "-p", str(rxp.pid)], run + "/perf.log")
            time.sleep(0.5)
        load = os.getloadavg()[0]
        snmp0 = snmp()
        t0 = time.monotonic()
        txp = self.procs.start([self.tx, "send", "--link", "udp://127.0.0.1:%d" % txport, "--key",
                                k + "/link.key", "--rate", a.rate, "--no-progress", "-q"] + a.tx_args + [t],
                               run + "/tx.log")
        st, _, _ = self.procs.wait(txp, a.timeout)
        t_tx = time.monotonic() - t0
        if st != 0:
            raise RuntimeError("sluice-tx failed (%d): %s" % (st, tail(run + "/tx.log")))
        failed = None
        deadline = time.monotonic() + a.timeout
        while not os.path.isdir(os.path.join(rel, xid)):
            if time.monotonic() > deadline or rxp.poll() is not None:
                failed = "NOT RELEASED within %d s after the send" % a.timeout
                break
            with open(run + "/rx.log", errors="replace") as f:
                lg = f.read()
            if " timed out: " in lg or " REJECTED: " in lg:
                failed = "NOT RELEASED: " + [l for l in lg.splitlines()
                                             if " timed out: " in l or " REJECTED: " in l][0][:300]
                break
            self.procs.hwm(rxp)
            time.sleep(0.05)
        wall = time.monotonic() - t0
        snmp1 = snmp()
        if perf:
            self.procs.wait(perf, 60, term=True)
        time.sleep(1.2)  # one more status file
        s = status_fields(state + "/status")
        _, _, rss = self.procs.wait(rxp, 120, term=True)
        self.procs.wait(lsp, 30, term=True)
        with open(run + "/linksim.log", errors="replace") as f:
            ls = f.read()
        over = [l.split()[2] for l in ls.splitlines() if "queue overflow:" in l]
        with open(run + "/rx.log", errors="replace") as f:
            held = rx_held(f.read())
        row = dict(files=a.files, rate=a.rate, loss=a.loss, load=load, tx=t_tx, release=wall,
                   fps=a.files / wall, mbit=nbytes * 8 / wall / 1e6, rss=rss,
                   kdrops=s.get("kernel_drops", "?"), rcvbuf=snmp1[0] - snmp0[0], inerr=snmp1[1] - snmp0[1],
                   ring=over[0] if over else "?", wpeak=kv(s.get("writer", ""), "peak"),
                   wfull=kv(s.get("writer", ""), "full"), dgrams=int(s.get("datagrams", "0") or 0),
                   spilled=kv(s.get("writer", ""), "spilled"), speak=kv(s.get("writer", ""), "spill_peak"),
                   held=held,
                   failed=failed)
        if perf:
            self.perf_report(run, rxp.pid, row)
        return row

    def perf_report(self, run, pid, row):
        out = subprocess.run(["perf", "report", "-i", run + "/perf.data", "--stdio", "--sort", "pid",
                              "-F", "overhead,sample,pid", "--no-children"], capture_output=True, text=True,
                             timeout=300).stdout
        print("# perf: samples by thread of sluice-rx (receive thread: tid %d)" % pid)
        for l in out.splitlines():
            if l.strip() and not l.startswith("#"):
                print("#   " + l.strip())
                parts = l.split()
                if len(parts) >= 3 and parts[2].startswith("%d:" % pid):
                    row["rx_samples"] = int(parts[1])
        if row.get("rx_samples") and row["dgrams"]:
            print("# receive thread: %d samples at 499 Hz = %.2f s of CPU for %d datagrams = %.1f us each"
                  % (row["rx_samples"], row["rx_samples"] / 499, row["dgrams"],
                     row["rx_samples"] / 499 / row["dgrams"] * 1e6))
        out = subprocess.run(["perf", "report", "-i", run + "/perf.data", "--stdio", "--tid", str(pid),
                              "--sort", "sym", "--percent-limit", "2", "--no-children", "-g", "none"],
                             capture_output=True, text=True, timeout=300).stdout
        print("# perf: receive thread, symbols above 2%")
        for l in out.splitlines():
            if l.strip() and not l.startswith("#"):
                print("#   " + l.strip())

    def cleanup(self):
        self.procs.cleanup()
        if not self.a.keep:
            shutil.rmtree(self.w, ignore_errors=True)


def rx_held(log):
    """Seconds the receive thread spent on the release: its own log line
    (rx/finish.c), or, from a sluice-rx that released in line, the whole
    release ("verified in S s" of its RELEASED line, marked *)."""
    for l in log.splitlines():
        if "the receive thread spent " in l:
            return l.split("the receive thread spent ")[1].split()[0]
    for l in log.splitlines():
        if " RELEASED to " in l and "verified in " in l:
            return l.split("verified in ")[1].split()[0] + "*"
    return "?"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bindir", required=True)
    ap.add_argument("--files", type=int, default=1000000)
    ap.add_argument("--rate", default="1G")
    ap.add_argument("--loss", default="1%")
    ap.add_argument("--tmp", default="/tmp")
    ap.add_argument("--data", help="keep the files and manifest here (reused when present)")
    ap.add_argument("--timeout", type=int, default=900)
    ap.add_argument("--perf", action="store_true")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--rx-arg", dest="rx_args", action="append", default=[])
    ap.add_argument("--tx-arg", dest="tx_args", action="append", default=[])
    a = ap.parse_args()
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    b = Bench(a)
    try:
        k, t = b.prepare()
        r = b.transfer(k, t)
    except (Stop, RuntimeError, subprocess.SubprocessError) as e:
        sys.stderr.write("many_files.py: %s (log: %s)\n" % (e, b.log))
        b.cleanup()
        return 1
    b.cleanup()
    hdr = ("files", "rate", "loss", "load", "send s", "release s", "files/s", "Mbit/s", "rx RSS MiB",
           "kernel drops", "RcvbufErr", "InErr", "ring", "writer peak", "writer full", "spilled",
           "spill peak", "rx held s")
    vals = (str(r["files"]), r["rate"], r["loss"], "%.2f" % r["load"], "%.1f" % r["tx"], "%.1f" % r["release"],
            "%.0f" % r["fps"], "%.0f" % r["mbit"], "%.0f" % r["rss"], str(r["kdrops"]), str(r["rcvbuf"]),
            str(r["inerr"]), str(r["ring"]), r["wpeak"], r["wfull"], r["spilled"], r["speak"], r["held"])
    w = [max(len(h), len(v)) for h, v in zip(hdr, vals)]
    print("  ".join(h.rjust(n) for h, n in zip(hdr, w)))
    print("  ".join(v.rjust(n) for v, n in zip(vals, w)))
    if r["failed"]:
        print("# " + r["failed"])
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
