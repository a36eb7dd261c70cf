#!/usr/bin/env python3
"""tests/bench/e2e.py — sluice end to end over loopback, side by side with udpcast.

One command, prints a table. For each data set (2 GiB incompressible, 2 GiB
mixed text and binaries by default) and each rate (unlimited and a fixed
one), it sends one pass of a signed transfer with sluice-tx to sluice-rx
over 127.0.0.1 (AEAD on, FEC overhead 12.5%, SHA-256 verification on), and
the same bytes with udpcast (udp-sender --async --fec 8x16/128, 12.5%
parity, to udp-receiver over loopback, one way). It reports:

  goodput   released bytes / wall time from the start of the send until the
            transfer is released (sluice: RELEASE/<id> exists; udpcast:
            udp-receiver has exited with the whole file written)
  tx, rx    core-seconds (user + system, getrusage of the child) per GB
            (10^9 bytes) of payload
  RSS       peak resident set of each process (VmHWM, sampled while it runs)
  drops     UdpRcvbufErrors delta of /proc/net/snmp during the run (the
            counter is system-wide: other traffic on the host counts too)

and the ratios sluice/udpcast. With --io, sluice runs once per I/O engine
(column io). Paced rows also give tx's achieved wire rate and the line
time it left unused (late wake-ups, or no data ready). Every process it starts is stopped by PID and
its temporary directory removed, also on failure or Ctrl-C; every wait is
bounded in time. Registered with meson benchmark() ('e2e'); plain
`meson test` never runs it.

The rows of issue 11's table:
  1. --net bridge --ladder 1G,2G,3G,5G,8G --size 1G --kinds random: between
     two network namespaces joined by a bridge (tests/bench/netns.py), sluice
     at each rate until one is not released in one pass, udpcast unlimited,
     and the ratio of the best sluice goodput to udpcast's;
  2. the same with --pin: tx on CPU 0, rx on CPU 1 (two one-core hosts);
  3. --rate 2G --disk-load 3G: dd writes 3 GiB to the same filesystem while
     each sluice send runs (drops and rxdrops should stay 0);
  4. --kinds mixed: text and binaries, where zstd runs.

Usage: e2e.py --bindir BUILD [--size 2G] [--rate 2G] [--kinds random,mixed]
              [--linksim-rate 500M] [--io plain,unet,ufile,uring]
              [--net loopback|bridge] [--pin] [--ladder R1,R2,...]
              [--disk-load SIZE] [--symbol-size 1396] [--no-udpcast] [--tmp DIR]
"""
import argparse
import os
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import netns  # noqa: E402  (tests/bench/netns.py)

GB = 1e9

# I/O engines side by side (--io): what each adds to the sluice command lines.
# net: the udp link's engine (URI option io=); file: --file-io of tx and rx.
IO_MODES = {
    "plain": dict(uri="", file=[]),
    "unet": dict(uri="?io=uring", file=[]),
    "ufile": dict(uri="", file=["--file-io", "uring"]),
    "uring": dict(uri="?io=uring", file=["--file-io", "uring"]),
}



# sluice's bytes around a symbol in a datagram (frame header, AEAD tag) and IPv4+UDP's
DATAGRAM_OVERHEAD = 1500 - 1396


def link_mtu(symbol_size):
    """The bridge's MTU for --net bridge: 1500 for the default symbol, else jumbo frames
    just large enough that one datagram is one frame (as a diode link built for them)."""
    return max(1500, symbol_size + DATAGRAM_OVERHEAD)

class Stop(Exception):
    pass


def on_signal(sig, frame):
    raise Stop("interrupted by signal %d" % sig)


def parse_size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    if s[-1:].upper() in mult:
        return int(float(s[:-1]) * mult[s[-1:].upper()])
    return int(s)


def parse_rate(s):
    if s == "unlimited":
        return 0
    mult = {"k": 1e3, "M": 1e6, "G": 1e9}
    if s[-1:] in mult:
        return int(float(s[:-1]) * mult[s[-1:]])
    return int(s)


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def free_even_port():
    # udpcast uses portbase and portbase+1; portbase must be even.
    for _ in range(200):
        p = random.randrange(20000, 60000, 2)
        ok = True
        for q in (p, p + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            try:
                s.bind(("127.0.0.1", q))
            except OSError:
                ok = False
            finally:
                s.close()
        if ok:
            return p
    raise RuntimeError("no free even UDP port pair found")


def rcvbuf_errors():
    with open("/proc/net/snmp") as f:
        lines = [l.split() for l in f if l.startswith("Udp:")]
    hdr, val = lines[0], lines[1]
    return int(val[hdr.index("RcvbufErrors")])


class Procs:
    """Children by PID: started, waited for with rusage, killed on cleanup."""

    def __init__(self):
        self.live = {}

    def start(self, argv, log, **kw):
        f = open(log, "ab")
        p = subprocess.Popen(argv, stdout=f, stderr=subprocess.STDOUT, **kw)
        f.close()
        self.live[p.pid] = p
        return p

    @staticmethod
    def hwm(p):
        """Peak RSS in MiB so far (VmHWM). ru_maxrss is no use here: Linux
        carries the forking parent's (this script's) peak across exec."""
        try:
            with open("/proc/%d/status" % p.pid) as f:
                for l in f:
                    if l.startswith("VmHWM:"):
                        p.hwm = max(getattr(p, "hwm", 0), int(l.split()[1]) / 1024)
        except (OSError, ValueError):
            pass
        return getattr(p, "hwm", 0)

    def wait(self, p, timeout, term=False):
        """Wait for p at most timeout seconds (after a SIGTERM when term);
        returns (status, rusage, peak RSS MiB) or raises after killing it."""
        deadline = time.monotonic() + timeout
        self.hwm(p)
        if term:
            os.kill(p.pid, signal.SIGTERM)
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid == p.pid:
                self.live.pop(p.pid, None)
                p.returncode = os.waitstatus_to_exitcode(status)
                return p.returncode, ru, self.hwm(p)
            self.hwm(p)
            if time.monotonic() > deadline:
                self.kill(p)
                raise RuntimeError("%s did not finish within %d s" % (p.args[0], timeout))
            time.sleep(0.02)

    def kill(self, p, sig=signal.SIGKILL):
        if p.pid in self.live:
            try:
                os.kill(p.pid, sig)
            except ProcessLookupError:
                pass
            try:
                os.wait4(p.pid, 0)
            except ChildProcessError:
                pass
            self.live.pop(p.pid, None)

    def cleanup(self):
        for p in list(self.live.values()):
            self.kill(p)


# ---- data ----

WORDS = ("the of and to in is was for on that with as by at from loss rate block "
         "symbol parity pass link diode enclave manifest officer signature transfer "
         "receiver sender chunk stream release audit ledger policy sequence").split()


def gen_random(path, size):
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(left, 8 << 20)
            f.write(os.urandom(n))
            left -= n


def text_block(rng, n):
    out, size, i = [], 0, 0
    while size < n:
        if i % 3 == 0:
            line = "%d,%d,%.6f,%s,%s\n" % (rng.randrange(10**9), i, rng.random(),
                                           rng.choice(WORDS), rng.choice(WORDS))
        elif i % 3 == 1:
            line = "2026-11-%02d %02d:%02d:%02d INFO %s %s %s id=%08x\n" % (
                rng.randrange(1, 29), rng.randrange(24), rng.randrange(60), rng.randrange(60),
                " ".join(rng.choice(WORDS) for _ in range(rng.randrange(3, 12))),
                rng.choice(WORDS), rng.choice(WORDS), rng.getrandbits(32))
        else:
            line = " ".join(rng.choice(WORDS) for _ in range(rng.randrange(4, 16))) + ".\n"
        out.append(line)
        size += len(line)
        i += 1
    return "".join(out).encode()[:n]


def binaries(limit):
    """Real ELF files of this system (a few hundred MB is plenty)."""
    found, total = [], 0
    for d in ("/usr/lib/x86_64-linux-gnu", "/usr/bin", "/usr/lib", "/usr/libexec"):
        for root, _dirs, files in os.walk(d):
            for name in sorted(files):
                p = os.path.join(root, name)
                try:
                    if not os.path.isfile(p) or os.path.islink(p):
                        continue
                    sz = os.path.getsize(p)
                    if sz < 4096 or sz > (64 << 20):
                        continue
                    with open(p, "rb") as f:
                        if f.read(4) != b"\x7fELF":
                            continue
                except OSError:
                    continue
                found.append(p)
                total += sz
                if total >= limit:
                    return found
    return found


def gen_mixed(datadir, size, rng):
    """About 45% generated text (csv, logs, prose), 45% real ELF binaries
    of this system, 10% random; files of 64 KiB .. 32 MiB in a few dirs."""
    bins = binaries(512 << 20)
    made, i, bi = 0, 0, 0
    block = text_block(rng, 8 << 20)
    while made < size:
        kind = i % 10
        want = min(size - made, rng.choice((64 << 10, 1 << 20, 4 << 20, 16 << 20, 32 << 20)))
        sub = os.path.join(datadir, "set%02d" % (i % 7))
        os.makedirs(sub, exist_ok=True)
        if kind < 4 or (kind < 9 and not bins):
            path = os.path.join(sub, "text%05d.csv" % i)
            with open(path, "wb") as f:
                left = want
                while left:
                    # rotate the block so no two files are identical
                    k = rng.randrange(len(block))
                    piece = (block[k:] + block[:k])[:left]
                    f.write(piece)
                    left -= len(piece)
        elif kind < 9:
            path = os.path.join(sub, "lib%05d.so" % i)
            with open(path, "wb") as f:
                left = want
                while left:
                    with open(bins[bi % len(bins)], "rb") as b:
                        piece = b.read(left)
                    bi += 1
                    f.write(piece)
                    left -= len(piece)
        else:
            path = os.path.join(sub, "blob%05d.bin" % i)
            gen_random(path, want)
        made += want
        i += 1


# ---- runs ----

class Bench:
    def __init__(self, a):
        self.a = a
        self.procs = Procs()
        self.bin = a.bindir
        self.sluice = os.path.join(self.bin, "tools", "sluice")
        self.tx = os.path.join(self.bin, "tx", "sluice-tx")
        self.rx = os.path.join(self.bin, "rx", "sluice-rx")
        self.w = tempfile.mkdtemp(prefix="sluice-bench-", dir=a.tmp)
        self.log = os.path.join(self.w, "bench.log")
        self.net = netns.Bridge(mtu=link_mtu(a.symbol_size)) if a.net == "bridge" else None
        self.rx_ip = netns.RX_ADDR if self.net else "127.0.0.1"

    def wrap(self, side, argv):
        """argv run on its side: pinned to a CPU (--pin: tx 0, rx 1) and, with
        --net bridge, in that side's network namespace."""
        if self.a.pin:
            argv = ["taskset", "-c", "0" if side == "tx" else "1"] + list(argv)
        return self.net.wrap(side, argv) if self.net else list(argv)

    def drops(self):
        """UDP receive-buffer drops where rx runs (per network namespace)."""
        return self.net.snmp("rx") if self.net else rcvbuf_errors()

    def disk_load(self, run):
        """--disk-load: dd writing that many bytes to the filesystem of the
        staging, flushed at the end, started with the send."""
        if not self.a.disk_load:
            return None
        return self.procs.start(["dd", "if=/dev/zero", "of=" + run + "/ddload", "bs=1M",
                                 "count=%d" % (self.a.disk_load >> 20), "conv=fsync"],
                                run + "/dd.log")

    def run(self, argv, **kw):
        with open(self.log, "ab") as f:
            subprocess.run(argv, stdout=f, stderr=subprocess.STDOUT, check=True, timeout=900, **kw)

    def keys(self):
        w = self.w
        env = dict(os.environ, SLUICE_PASSPHRASE="unused")
        self.run([self.sluice, "keygen", "--link", "-o", w + "/link.key"], env=env)
        for o in ("alice", "bob"):
            self.run([self.sluice, "keygen", "--officer", o, "-o", w + "/" + o, "--unencrypted"], env=env)
        self.run([self.sluice, "keygen", "--submitter", "dana", "-o", w + "/dana", "--unencrypted"], env=env)
        self.run([self.sluice, "policy", "create", "--officer", w + "/alice.pub", "--officer",
                  w + "/bob.pub", "--threshold", "2", "--submitter", w + "/dana.pub",
                  "--enclave", "lab", "--link", "bench", "--sequence-window", "1000",
                  "-o", w + "/policy"], env=env)
        self.env = env

    def dataset(self, kind, seq):
        t = os.path.join(self.w, "T-" + kind)
        data = os.path.join(t, "data")
        os.makedirs(data)
        t0 = time.monotonic()
        if kind == "random":
            gen_random(os.path.join(data, "blob.bin"), self.a.size)
        else:
            gen_mixed(data, self.a.size, random.Random(4747))
        self.run([self.sluice, "manifest", "create", data, "--submitter", "dana", "--purpose",
                  "benchmark " + kind, "--sequence", str(seq), "--enclave", "lab", "--link",
                  "bench", "-o", t + "/manifest"], env=self.env)
        for k in ("alice", "bob", "dana"):
            self.run([self.sluice, "manifest", "sign", t + "/manifest", "--key",
                      self.w + "/" + k + ".key"], env=self.env)
        with open(t + "/manifest") as f:
            xid = [l.split()[1] for l in f if l.startswith("id ")][0]
        # A flat stream of the same bytes for udpcast (one file, no tar).
        flat = os.path.join(self.w, "flat-" + kind)
        with open(t + "/manifest") as f:
            paths = [l.rstrip("\n").rsplit(" ", 1)[1] for l in f if l.startswith("file ")]  # the path: last, percent-encoded
        with open(flat, "wb") as out:
            for p in paths:
                with open(os.path.join(data, unquote(p)), "rb") as inp:
                    shutil.copyfileobj(inp, out, 8 << 20)
        os.sync()  # its writeback must not compete with the runs that follow
        sys.stderr.write("# data set %s: %.2f GiB in %d files, made in %.0f s\n" % (
            kind, self.a.size / (1 << 30), len(paths), time.monotonic() - t0))
        return t, xid, flat

    def sluice_run(self, kind, t, xid, rate, via=None, io="plain"):
        """One transfer; with via=R, through `sluice linksim` at R with a
        64 KiB queue, tx paced at `rate` (the caller passes 0.98 R) with
        its burst set to that queue. io: a key of IO_MODES."""
        mode = IO_MODES[io]
        port = free_port()
        run = os.path.join(self.w, "run")
        shutil.rmtree(run, ignore_errors=True)
        os.makedirs(run)
        state, rel = run + "/state", run + "/rel"
        rxargs = [self.rx, "--link", "udp://%s:%d%s" % (self.rx_ip, port, mode["uri"]),
                  "--key", self.w + "/link.key",
                  "--policy", self.w + "/policy", "--state", state, "--release", rel,
                  "--timeout", "60", "--tail-grace", "10"] + mode["file"] + self.a.rx_args
        rxp = self.procs.start(self.wrap("rx", rxargs), run + "/rx.log")
        deadline = time.monotonic() + 10
        while not os.path.exists(state + "/status"):
            if time.monotonic() > deadline or rxp.poll() is not None:
                raise RuntimeError("sluice-rx did not start: see " + run + "/rx.log")
            time.sleep(0.05)
        txport, lsp = port, None
        if via:
            txport = free_port()
            lsp = self.procs.start([self.sluice, "linksim", "--in", "udp://127.0.0.1:%d" % txport,
                                    "--out", "udp://127.0.0.1:%d" % port, "--rate", str(via),
                                    "--queue", "64K", "--idle-exit", "30"], run + "/linksim.log")
            time.sleep(0.5)
        os.sync()  # the previous run's released tree is on disk before this one starts
        drops0 = self.drops()
        txargs = [self.tx, "send", "--link", "udp://%s:%d%s" % (
                  "127.0.0.1" if via else self.rx_ip, txport, mode["uri"]),
                  "--key", self.w + "/link.key", "--rate", str(rate) if rate else "unlimited",
                  "--overhead", "12.5", "--symbol-size", str(self.a.symbol_size),
                  "--no-progress", "-q"] + (["--burst", "64K"] if via else []) + mode["file"] + \
                  self.a.tx_args + [t]
        t0 = time.monotonic()
        ddp = self.disk_load(run)
        txp = self.procs.start(self.wrap("tx", txargs), run + "/tx.log")
        st, txru, txrss = self.procs.wait(txp, self.a.timeout)
        t_tx = time.monotonic() - t0
        if st != 0:
            raise RuntimeError("sluice-tx failed (%d): %s" % (st, tail(run + "/tx.log")))
        deadline = time.monotonic() + 120
        failed = None
        while not os.path.isdir(os.path.join(rel, xid)):
            if time.monotonic() > deadline or rxp.poll() is not None:
                failed = "NOT RELEASED within 120 s after the send"
                break
            with open(run + "/rx.log", errors="replace") as f:
                log = f.read()
            if " timed out: " in log or " REJECTED: " in log:
                why = [l for l in log.splitlines() if " timed out: " in l or " REJECTED: " in l]
                failed = "NOT RELEASED: " + why[0].replace("sluice-rx: warning: ", "")[:200]
                break
            self.procs.hwm(rxp)
            time.sleep(0.02)
        wall = time.monotonic() - t0
        drops = self.drops() - drops0
        kdrops = rx_counter(state + "/status", "kernel_drops")
        rdrops = rx_field(state + "/status", "ring", "drops")
        _, rxru, rxrss = self.procs.wait(rxp, 60, term=True)
        ddnote = ""
        if ddp:
            st_dd, _, _ = self.procs.wait(ddp, 600)
            ddnote = "; dd wrote %s meanwhile%s" % (self.a.disk_load_text, "" if st_dd == 0 else
                                                     " (dd failed: %d)" % st_dd)
        lsnote = ""
        if lsp:
            self.procs.wait(lsp, 30, term=True)
            with open(run + "/linksim.log", errors="replace") as f:
                ls = f.read()
            over = [l.split()[2] for l in ls.splitlines() if "queue overflow:" in l]
            outr = [l.split(":", 1)[1].strip() for l in ls.splitlines() if "output rate:" in l]
            if over and over[0].isdigit():
                drops = int(over[0])
            lsnote = "linksim %s, 64 KiB queue: %s overflow drops, output %s" % (
                fmt_rate(via), over[0] if over else "?", outr[0].split(",")[0] if outr else "?")
        if not failed:
            got = dir_bytes(os.path.join(rel, xid, "data"))
            if got != self.a.size:
                raise RuntimeError("released %d bytes, expected %d" % (got, self.a.size))
        sent, unused = "", ""
        with open(run + "/tx.log") as f:
            for l in f:
                if l.startswith("sent "):
                    sent = l.strip()
                if "went unused for" in l:
                    unused = l.split("went unused for ", 1)[1].split(":")[0]
        if failed:
            sent = failed
        elif rate:
            m = [w for w in sent.split(", ") if "on the wire" in w]
            sent = "tx at %s: %s%s%s" % (fmt_rate(rate), m[0] if m else sent,
                                        ", unused " + unused if unused else "",
                                        "; " + lsnote if lsnote else "")
        sent += ddnote
        shutil.rmtree(run, ignore_errors=True)
        return dict(tool="sluice", io=io, kind=kind, rate=rate, via=via, wall=wall, t_tx=t_tx,
                    goodput=0.0 if failed else self.a.size / wall, tx=cpu(txru) / (self.a.size / GB),
                    rx=cpu(rxru) / (self.a.size / GB), txrss=txrss,
                    rxrss=rxrss, drops=drops, kdrops=kdrops, rdrops=rdrops, note=sent)

    def udpcast_run(self, kind, flat, rate):
        port = free_even_port()
        run = os.path.join(self.w, "run")
        shutil.rmtree(run, ignore_errors=True)
        os.makedirs(run)
        out = run + "/out.bin"
        # over loopback both ends use 127.0.0.1; across the bridge each names the other
        rif, sif = ("vrx", "vtx") if self.net else ("lo", "lo")
        raddr, saddr = (netns.TX_ADDR, netns.RX_ADDR) if self.net else ("127.0.0.1", "127.0.0.1")
        rcv = self.procs.start(self.wrap("rx", [
            "udp-receiver", "--interface", rif, "--nokbd", "--file", out,
            "--portbase", str(port), "--mcast-rdv-address", raddr,
            "--rcvbuf", str(32 << 20), "--start-timeout", "30",
            "--receive-timeout", "10", "--exit-wait", "100"]),
            run + "/udp-receiver.log", stdin=subprocess.DEVNULL)
        time.sleep(0.3)
        os.sync()
        drops0 = self.drops()
        args = ["udp-sender", "--interface", sif, "--async", "--fec", "8x16/128", "--nokbd",
                "--autostart", "1", "--file", flat, "--portbase", str(port),
                "--mcast-rdv-address", saddr, "--mcast-data-address", saddr]
        if rate:
            args += ["--max-bitrate", "%dm" % (rate // 1000000)]
        t0 = time.monotonic()
        snd = self.procs.start(self.wrap("tx", args), run + "/udp-sender.log",
                               stdin=subprocess.DEVNULL)
        st, txru, txrss = self.procs.wait(snd, self.a.timeout)
        t_tx = time.monotonic() - t0
        _, rxru, rxrss = self.procs.wait(rcv, 120)
        wall = time.monotonic() - t0
        drops = self.drops() - drops0
        size = os.path.getsize(out) if os.path.exists(out) else 0
        ok = size == self.a.size and same_file(out, flat)
        shutil.rmtree(run, ignore_errors=True)
        return dict(tool="udpcast", io="", kind=kind, rate=rate, via=None, wall=wall, t_tx=t_tx,
                    goodput=(self.a.size / wall) if ok else 0.0,
                    tx=cpu(txru) / (self.a.size / GB), rx=cpu(rxru) / (self.a.size / GB),
                    txrss=txrss, rxrss=rxrss, drops=drops, kdrops=0, rdrops=-1,
                    note="" if ok else "INCOMPLETE: %d of %d bytes correct" % (size, self.a.size))

    def cleanup(self):
        self.procs.cleanup()
        if self.net:
            self.net.close()
        shutil.rmtree(self.w, ignore_errors=True)


def unquote(p):
    # manifest paths are percent-encoded (MANIFEST.md)
    out, i, b = bytearray(), 0, p.encode()
    while i < len(b):
        if b[i:i + 1] == b"%":
            out.append(int(b[i + 1:i + 3], 16))
            i += 3
        else:
            out.append(b[i])
            i += 1
    return out.decode()


def cpu(ru):
    return ru.ru_utime + ru.ru_stime


def tail(path, n=5):
    try:
        with open(path, errors="replace") as f:
            return " | ".join(l.strip() for l in f.readlines()[-n:])
    except OSError:
        return "(no log)"


def rx_counter(path, key):
    """A counter line ("key N") of sluice-rx's status file; -1 when absent."""
    try:
        with open(path) as f:
            for l in f:
                if l.startswith(key + " "):
                    return int(l.split()[1])
    except (OSError, ValueError):
        pass
    return -1


def rx_field(path, line, key):
    """A key=N field of one line of sluice-rx's status file ("ring ... drops=N");
    -1 when absent (no receive ring: --ring 0)."""
    try:
        with open(path) as f:
            for l in f:
                if l.startswith(line + " "):
                    for w in l.split()[1:]:
                        if w.startswith(key + "="):
                            return int(w[len(key) + 1:])
    except (OSError, ValueError):
        pass
    return -1


def dir_bytes(d):
    total = 0
    for root, _dirs, files in os.walk(d):
        for n in files:
            total += os.path.getsize(os.path.join(root, n))
    return total


def same_file(a, b):
    with open(a, "rb") as fa, open(b, "rb") as fb:
        while True:
            x, y = fa.read(8 << 20), fb.read(8 << 20)
            if x != y:
                return False
            if not x:
                return True


def fmt_rate(r):
    return "unlimited" if not r else "%gG" % (r / 1e9) if r >= 1e9 else "%gM" % (r / 1e6)


def _drops_label():
    return ("drops: UdpRcvbufErrors delta where rx runs; sluice+ls rows: linksim queue overflow. "
            "rxdrops: what sluice-rx counted itself (kernel_drops of its status); "
            "ringdrops: datagrams its receive ring had no room for")


def ladder_summary(rows, a):
    """--ladder: the highest rate each data set released in one pass, and
    its goodput against udpcast's best in the same run."""
    if not a.ladder:
        return
    print()
    print("ladder %s: highest rate released in one pass" % ",".join(fmt_rate(r) for r in a.ladder))
    for kind in a.kinds.split(","):
        ok = [r for r in rows if r["tool"] == "sluice" and r["kind"] == kind and r["goodput"] > 0
              and not r["via"]]
        u = [r["goodput"] for r in rows if r["tool"] == "udpcast" and r["kind"] == kind]
        if not ok:
            print("%-7s none released" % kind)
            continue
        best = max(ok, key=lambda r: r["rate"])
        ratio = " = %.1fx udpcast's %.1f MB/s" % (best["goodput"] / max(u), max(u) / 1e6) \
            if u and max(u) > 0 else ""
        print("%-7s %s: %.1f MB/s, tx %.2f and rx %.2f core-s/GB%s" % (
            kind, fmt_rate(best["rate"]), best["goodput"] / 1e6, best["tx"], best["rx"], ratio))


def setting(a):
    """The conditions of a run, for the table's title."""
    where = "network namespaces joined by a bridge" if a.net == "bridge" else "loopback"
    return "%s%s%s" % (where, ", tx pinned to CPU 0 and rx to CPU 1" if a.pin else "",
                       ", dd writing %s to the same filesystem during each sluice send" %
                       a.disk_load_text if a.disk_load else "")


def table(rows, a):
    print("sluice vs udpcast, %s, one pass, FEC 12.5%%, %.2f GiB per data set, "
          "symbol size %d%s" % (setting(a), a.size / (1 << 30), a.symbol_size,
                               (", tx " + " ".join(a.tx_args)) if a.tx_args else ""))
    print("%-9s %-5s %-7s %-9s %9s %8s %8s %8s %8s %8s %7s %7s %9s" % (
        "tool", "io", "data", "rate", "goodput", "wall", "tx", "rx", "tx RSS", "rx RSS", "drops",
        "rxdrops", "ringdrops"))
    print("%-9s %-5s %-7s %-9s %9s %8s %8s %8s %8s %8s %7s %7s %9s" % (
        "", "", "", "", "MB/s", "s", "cs/GB", "cs/GB", "MiB", "MiB", "", "", ""))
    for r in rows:
        tool = r["tool"] + ("+ls" if r["via"] else "")
        print("%-9s %-5s %-7s %-9s %9.1f %8.2f %8.2f %8.2f %8.1f %8.1f %7d %7s %9s %s" % (
            tool, r["io"], r["kind"], fmt_rate(r["rate"]), r["goodput"] / 1e6, r["wall"], r["tx"],
            r["rx"], r["txrss"], r["rxrss"], r["drops"],
            str(r["kdrops"]) if r["kdrops"] >= 0 else "-",
            str(r["rdrops"]) if r["rdrops"] >= 0 else "-", r["note"] if r["tool"] == "sluice" or
            r["goodput"] == 0 else ""))
    ladder_summary(rows, a)
    ratios = []
    for r in rows:
        if r["tool"] != "sluice" or r["via"]:
            continue
        for u in rows:
            if u["tool"] == "udpcast" and u["kind"] == r["kind"] and u["rate"] == r["rate"]:
                ratios.append((r, u))
    print(_drops_label())
    if ratios:
        print()
        print("ratios sluice / udpcast (goodput: higher is better; CPU: udpcast / sluice, "
              "higher is better)")
        print("%-5s %-7s %-9s %9s %12s %12s" % ("io", "data", "rate", "goodput", "tx CPU", "rx CPU"))
        for r, u in ratios:
            g = r["goodput"] / u["goodput"] if u["goodput"] else float("inf")
            print("%-5s %-7s %-9s %8.1fx %11.1fx %11.1fx" % (
                r["io"], r["kind"], fmt_rate(r["rate"]), g, u["tx"] / r["tx"], u["rx"] / r["rx"]))


def climb(b, kind, t, xid, flat, io):
    """--ladder: sluice at each rate in turn until one is not released in one
    pass; then udpcast unlimited, for the ratio."""
    rows = []
    for rate in b.a.ladder:
        r = b.sluice_run(kind, t, xid, rate, io=io)
        sys.stderr.write("# ladder %s: %s\n" % (fmt_rate(rate), r["note"]))
        rows.append(r)
        if r["goodput"] == 0:
            break
    if not b.a.no_udpcast:
        rows.append(b.udpcast_run(kind, flat, 0))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bindir", required=True, help="meson build directory")
    ap.add_argument("--size", default="2G", help="bytes per data set (K/M/G = 1024^n), default 2G")
    ap.add_argument("--rate", default="2G", help="the fixed rate (bit/s, k/M/G = 1000^n), default 2G")
    ap.add_argument("--rates", default=None, help="comma-separated rates instead of 'unlimited,RATE'")
    ap.add_argument("--kinds", default="random,mixed", help="data sets: random,mixed")
    ap.add_argument("--symbol-size", type=int, default=1396)
    ap.add_argument("--tx-arg", action="append", default=[], dest="tx_args",
                    help="extra sluice-tx argument (repeatable)")
    ap.add_argument("--rx-arg", action="append", default=[], dest="rx_args",
                    help="extra sluice-rx argument (repeatable)")
    ap.add_argument("--no-udpcast", action="store_true")
    ap.add_argument("--io", default="plain",
                    help="sluice I/O engines to run side by side, comma-separated: plain "
                         "(sendmmsg/recvmmsg, pread/pwrite), unet (udp link on io_uring), ufile "
                         "(file reads and writes on io_uring), uring (both); default plain")
    ap.add_argument("--linksim-rate", default="500M",
                    help="also send the first data set through sluice linksim at this rate with a "
                         "64 KiB queue, tx at 0.98 of it ('0': skip); default 500M")
    ap.add_argument("--timeout", type=int, default=900, help="seconds allowed per send")
    ap.add_argument("--net", default="loopback", choices=("loopback", "bridge"),
                    help="loopback, or two network namespaces joined by a bridge over veth pairs "
                         "(root; made and removed by this script)")
    ap.add_argument("--pin", action="store_true",
                    help="two one-core hosts: tx (and udp-sender) on CPU 0, rx (and udp-receiver) "
                         "on CPU 1 (taskset)")
    ap.add_argument("--ladder", default=None,
                    help="comma-separated rates tried in order for sluice until one is not "
                         "released in one pass (replaces --rate/--rates; udpcast runs unlimited)")
    ap.add_argument("--disk-load", default=None,
                    help="while each sluice send runs, dd writes this much (K/M/G) to the same "
                         "filesystem, flushed at the end")
    ap.add_argument("--tmp", default=os.environ.get("TMPDIR", "/var/tmp"))
    a = ap.parse_args()
    a.size = parse_size(a.size)
    a.disk_load_text = a.disk_load
    a.disk_load = parse_size(a.disk_load) if a.disk_load else 0
    a.ladder = [parse_rate(r) for r in a.ladder.split(",")] if a.ladder else None
    rates = [parse_rate(r) for r in (a.rates.split(",") if a.rates else ["unlimited", a.rate])]
    if a.net == "bridge" and parse_rate(a.linksim_rate):
        sys.stderr.write("# --net bridge: the linksim row is skipped (linksim runs on loopback)\n")
        a.linksim_rate = "0"
    if a.net == "bridge" and os.geteuid() != 0:
        sys.exit("e2e.py: --net bridge needs root (ip netns)")
    ios = a.io.split(",")
    for io in ios:
        if io not in IO_MODES:
            sys.exit("e2e.py: --io %s: not one of %s" % (io, ", ".join(IO_MODES)))
    if not a.no_udpcast and not shutil.which("udp-sender"):
        sys.exit("e2e.py: udp-sender not found (Debian package udpcast); use --no-udpcast")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    b = Bench(a)
    rows = []
    try:
        b.keys()
        for seq, kind in enumerate(a.kinds.split(","), 1):
            t, xid, flat = b.dataset(kind, seq)
            if a.ladder:
                rows += climb(b, kind, t, xid, flat, ios[0])
            for rate in ([] if a.ladder else rates):
                for io in ios:
                    r = b.sluice_run(kind, t, xid, rate, io=io)
                    sys.stderr.write("# %s %s\n" % (io, r["note"]))
                    rows.append(r)
                if not a.no_udpcast:
                    rows.append(b.udpcast_run(kind, flat, rate))
            ls = parse_rate(a.linksim_rate)
            if ls and seq == 1:
                r = b.sluice_run(kind, t, xid, int(ls * 0.98), via=ls, io=ios[0])
                sys.stderr.write("# %s\n" % r["note"])
                rows.append(r)
            shutil.rmtree(t, ignore_errors=True)
            os.unlink(flat)
        table(rows, a)
    except (Stop, RuntimeError, subprocess.SubprocessError, OSError) as e:
        if rows:
            table(rows, a)
        sys.stderr.write("e2e.py: %s (logs were in %s)\n" % (e, b.w))
        return 1
    finally:
        b.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
