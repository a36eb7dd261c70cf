#!/usr/bin/env python3
"""cosim.py — whole-system co-simulation of the reference diode (fpga/rtl/diode_top.v).

  cosim.py gen OUT.pcap [--count N] [--payload BYTES] [--seed S] [--port P]
      write a pcap of fixed-size Ethernet/IPv4/UDP frames to port P (4747),
      random payloads: the shape of what `sluice-tx send --link pcap:FILE` writes.
  cosim.py run --in IN.pcap --out OUT.pcap [--sim iverilog|verilator] [--no-extra]
      replay IN.pcap into the low-side GMII of diode_top, mixed with frames the
      diode must drop (bad FCS, RX_ER, ARP, IPv6, foreign UDP port, TCP, IPv4 with
      options, fragments, oversize, undersize, VLAN), write what the high side
      transmits to OUT.pcap (nanosecond timestamps from the simulated clock) and
      check it: exactly the allowed frames, byte-identical, in order, with good
      FCS and preamble, never faster than the configured token bucket allows,
      counters as expected. Exit status 0 only if every check holds.
  cosim.py selftest [--sim ...]    gen + run on a temporary pcap.

The input pcap holds frames without FCS (as libpcap writes them); the FCS is
computed here. Link type must be Ethernet (1).
"""
import argparse, os, random, shutil, struct, subprocess, sys, tempfile, zlib

HERE = os.path.dirname(os.path.abspath(__file__))
RTL = os.path.join(os.path.dirname(HERE), 'rtl')

# Must match the parameters cosim_tb.v is built with (see SIM_PARAMS).
FRAC_BITS = 12
RATE_INC = 2048              # tokens per local clock: 0.5 byte/clk = 500 Mb/s
MAX_LEN = 1514
CAPACITY = 2 * (MAX_LEN + 24) * 4096
START_TOKENS = (MAX_LEN + 24) * 4096
TX_PERIOD_PS = 2 * 3999      # local clock
SIM_PARAMS = dict(RATE_INC=RATE_INC, FRAC_BITS=FRAC_BITS, MAX_LEN=MAX_LEN,
                  CAPACITY=CAPACITY, START_TOKENS=START_TOKENS)
SL_ETHERTYPE = 0x88B5
UDP_PORT = 4747


def die(msg):
    print('cosim: ' + msg, file=sys.stderr)
    sys.exit(1)


# ---------------------------------------------------------------- pcap
def read_pcap(path):
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 24:
        die(f'{path}: too short for a pcap file header')
    magic = data[:4]
    if magic in (b'\xd4\xc3\xb2\xa1', b'\x4d\x3c\xb2\xa1'):
        e = '<'
    elif magic in (b'\xa1\xb2\xc3\xd4', b'\xa1\xb2\x3c\x4d'):
        e = '>'
    else:
        die(f'{path}: not a pcap file (pcapng is not supported)')
    linktype = struct.unpack(e + 'I', data[20:24])[0]
    if linktype != 1:
        die(f'{path}: link type {linktype}, expected 1 (Ethernet)')
    frames, off = [], 24
    while off < len(data):
        if off + 16 > len(data):
            die(f'{path}: truncated record header at byte {off}')
        _, _, incl, orig = struct.unpack(e + 'IIII', data[off:off + 16])
        off += 16
        if incl != orig:
            die(f'{path}: record at byte {off - 16} is truncated (caplen {incl} < len {orig})')
        frames.append(data[off:off + incl])
        off += incl
    return frames


def write_pcap(path, frames, times_ns=None):
    with open(path, 'wb') as f:
        f.write(struct.pack('<IHHiIII', 0xa1b23c4d, 2, 4, 0, 0, 65535, 1))  # ns pcap
        for i, fr in enumerate(frames):
            t = times_ns[i] if times_ns else i * 1000
            f.write(struct.pack('<IIII', t // 10**9, t % 10**9, len(fr), len(fr)))
            f.write(fr)


# ---------------------------------------------------------------- frames
def fcs(frame):
    return struct.pack('<I', zlib.crc32(frame) & 0xffffffff)


def ip_checksum(hdr):
    s = sum(struct.unpack('!%dH' % (len(hdr) // 2), hdr))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff


def eth(dst, src, etype, payload):
    fr = dst + src + struct.pack('!H', etype) + payload
    return fr + b'\0' * max(0, 60 - len(fr))


def ipv4(proto, payload, flags_frag=0x4000, options=b'', csum_ok=True, src=b'\x0a\0\0\x01',
         dst=b'\x0a\0\0\x02'):
    ihl = 5 + len(options) // 4
    hdr = struct.pack('!BBHHHBBH4s4s', 0x40 | ihl, 0, ihl * 4 + len(payload), 0x1234,
                      flags_frag, 64, proto, 0, src, dst) + options
    c = ip_checksum(hdr)
    if not csum_ok:
        c ^= 0x0101
    return hdr[:10] + struct.pack('!H', c) + hdr[12:] + payload


def udp(dport, payload, sport=40000):
    return struct.pack('!HHHH', sport, dport, 8 + len(payload), 0) + payload


BCAST = b'\xff' * 6
SRC = b'\x02\x00\x00\x00\x00\x01'


def udp_frame(payload, port=UDP_PORT, **kw):
    return eth(BCAST, SRC, 0x0800, ipv4(17, udp(port, payload), **kw))


def extra_frames(rng):
    """(name, frame without FCS, how to corrupt, expected counter) — all must be dropped."""
    p = bytes(rng.randrange(256) for _ in range(200))
    arp = struct.pack('!HHBBH6s4s6s4s', 1, 0x0800, 6, 4, 1, SRC, b'\x0a\0\0\x01',
                      b'\0' * 6, b'\x0a\0\0\x02')
    ipv6 = struct.pack('!IHBB16s16s', 0x60000000, 8, 58, 255, b'\xfe\x80' + b'\0' * 14,
                       b'\xff\x02' + b'\0' * 13 + b'\x01') + b'\x87\0\0\0\0\0\0\0'
    tcp = struct.pack('!HHIIBBHHH', 40000, UDP_PORT, 1, 0, 0x50, 0x02, 1024, 0, 0)
    return [
        ('bad FCS', udp_frame(p), 'fcs', 'fcs'),
        ('RX_ER', udp_frame(p), 'rxer', 'fcs'),
        ('runt (3 bytes + FCS)', b'\x01\x02\x03', 'none', 'len'),
        ('runt (2 bytes, no FCS)', b'\x01\x02', 'nofcs', 'fcs'),
        ('ARP', eth(BCAST, SRC, 0x0806, arp), 'none', 'type'),
        ('IPv6 ND', eth(b'\x33\x33\0\0\0\x01', SRC, 0x86DD, ipv6), 'none', 'type'),
        ('LLDP', eth(b'\x01\x80\xc2\0\0\x0e', SRC, 0x88CC, b'\x02\x07\x04' + SRC + b'\0'), 'none', 'type'),
        ('UDP to port 53', udp_frame(p, port=53), 'none', 'type'),
        ('TCP to 4747', eth(BCAST, SRC, 0x0800, ipv4(6, tcp)), 'none', 'type'),
        ('IPv4 options', udp_frame(p, options=b'\x01\x01\x01\x00'), 'none', 'type'),
        ('IPv4 first fragment', udp_frame(p, flags_frag=0x2000), 'none', 'type'),
        ('IPv4 later fragment', udp_frame(p, flags_frag=0x0010), 'none', 'type'),
        ('IPv4 bad checksum', udp_frame(p, csum_ok=False), 'none', 'type'),
        ('VLAN-tagged UDP', eth(BCAST, SRC, 0x8100, b'\0\x05\x08\x00' + ipv4(17, udp(UDP_PORT, p))), 'none', 'type'),
        ('IPv4 length lies', udp_frame(p)[:-10], 'none', 'type'),
        ('oversize UDP', udp_frame(bytes(MAX_LEN - 42 + 1)), 'none', 'len'),
        ('oversize sluice', eth(BCAST, SRC, SL_ETHERTYPE, bytes(MAX_LEN - 14 + 1)), 'none', 'len'),
        ('undersize sluice', (BCAST + SRC + struct.pack('!H', SL_ETHERTYPE) + bytes(30)), 'none', 'len'),
    ]


def good_extras(rng):
    """Allowed frames the test adds: sluice EtherType, a minimum-size padded UDP."""
    return [
        ('sluice EtherType', eth(BCAST, SRC, SL_ETHERTYPE, bytes(rng.randrange(256) for _ in range(500)))),
        ('min-size UDP (padded)', udp_frame(b'hi')),
        ('max-size UDP', udp_frame(bytes(rng.randrange(256) for _ in range(MAX_LEN - 42)))),
    ]


# ---------------------------------------------------------------- co-simulation
def build_sim(sim, build):
    os.makedirs(build, exist_ok=True)
    srcs = sorted(os.path.join(RTL, f) for f in os.listdir(RTL) if f.endswith('.v'))
    tb = os.path.join(HERE, 'cosim_tb.v')
    if sim == 'iverilog':
        out = os.path.join(build, 'cosim_tb.vvp')
        cmd = ['iverilog', '-g2005', '-Wall', '-Wno-timescale', '-o', out, '-s', 'cosim_tb']
        cmd += [f'-Pcosim_tb.{k}={v}' for k, v in SIM_PARAMS.items()]
        subprocess.run(cmd + [tb] + srcs, check=True)
        return ['vvp', '-n', out]
    mdir = os.path.join(build, 'obj_cosim')
    cmd = ['verilator', '--binary', '--timing', '-Wno-fatal', '-Wno-lint', '-Wno-style',
           '--top-module', 'cosim_tb', '-Mdir', mdir, '-j', '2', '-O2',
           '-CFLAGS', '-O1']
    cmd += [f'-G{k}={v}' for k, v in SIM_PARAMS.items()]
    subprocess.run(cmd + [tb, os.path.join(HERE, 'cosim_dpi.c')] + srcs, check=True,
                   stdout=subprocess.DEVNULL)
    return [os.path.join(mdir, 'Vcosim_tb')]


def run(args):
    rng = random.Random(args.seed)
    frames = read_pcap(args.inp)
    if not frames:
        die(f'{args.inp}: no frames')
    # (frame, corrupt, expect) where expect is None (must come out) or a counter name
    plan = []
    bad = [] if args.no_extra else extra_frames(rng)
    good = [] if args.no_extra else good_extras(rng)
    for i, fr in enumerate(frames):
        plan.append((fr, 'none', None, f'input frame {i}'))
        # interleave the test's own frames among the input
        if bad and i % max(1, len(frames) // (len(bad) + len(good) + 1)) == 0:
            name, f2, how, exp = bad.pop(0)
            plan.append((f2, how, exp, name))
        elif good and i % 7 == 3:
            name, f2 = good.pop(0)
            plan.append((f2, 'none', None, name))
    plan += [(f2, how, exp, name) for name, f2, how, exp in bad]
    plan += [(f2, 'none', None, name) for name, f2 in good]

    tmp = tempfile.mkdtemp(prefix='sluice-cosim-')
    try:
        stim = os.path.join(tmp, 'stim.bin')
        resp = os.path.join(tmp, 'resp.bin')
        prev_wire, n_stim = 0, 0
        with open(stim, 'wb') as f:
            for fr, how, _, _ in plan:
                wire = fr + fcs(fr)
                if how == 'nofcs':
                    wire = fr
                if how == 'fcs':
                    wire = wire[:-1] + bytes([wire[-1] ^ 0x40])
                flags = 1 if how == 'rxer' else 0
                # pace the input below the configured rate, as sluice-tx does
                # (the previous frame's wire time at 98 % of the rate, at least IFG)
                # except a back-to-back burst of the first 4 frames (fits the FIFO), which the
                # token bucket must spread out
                gap = 12 + rng.randrange(8)
                if n_stim >= 4:
                    gap = max(gap, int(prev_wire / (0.98 * RATE_INC / 2**FRAC_BITS)) - prev_wire + 12)
                n_stim += 1
                prev_wire = len(wire) + 8
                f.write(struct.pack('!BHH', flags, gap, len(wire)) + wire)
            f.write(struct.pack('!BHH', 0, 0, 0))
        build = args.build or os.path.join(tmp, 'build')
        cmd = build_sim(args.sim, build)
        # drain long enough for a full bucket refill plus a few frames
        drain = 4 * START_TOKENS // RATE_INC + 10000
        p = subprocess.run(cmd + [f'+stim={stim}', f'+resp={resp}', f'+drain={drain}'],
                           capture_output=True, text=True)
        sys.stdout.write(p.stdout)
        if p.returncode != 0 or 'stat rx=' not in p.stdout:
            sys.stderr.write(p.stderr)
            die(f'simulator failed (exit {p.returncode})')
        stats = dict(kv.split('=') for kv in p.stdout.split('stat ')[1].splitlines()[0].split())
        out, starts = parse_resp(resp)
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f'cosim: kept {tmp}')

    times = [s * TX_PERIOD_PS // 1000 for s in starts]
    write_pcap(args.out, out, times)
    return check(plan, out, starts, stats, args)


def parse_resp(path):
    with open(path, 'rb') as f:
        data = f.read()
    out, starts, off, errors = [], [], 0, 0
    while off < len(data):
        start, n, flags = struct.unpack('!QHB', data[off:off + 11])
        off += 11
        body = data[off:off + n]
        off += n
        if flags & 1:
            die(f'frame {len(out)} sent with TX_ER (underrun)')
        if flags & 2:
            die(f'frame {len(out)} sent with a bad preamble')
        if n < 64 or fcs(body[:-4]) != body[-4:]:
            die(f'frame {len(out)} sent with a bad FCS or too short ({n} bytes)')
        out.append(body[:-4])
        starts.append(start)
    return out, starts


def check(plan, out, starts, stats, args):
    fails = []
    want = [(fr, name) for fr, _, exp, name in plan if exp is None]
    if len(out) != len(want):
        fails.append(f'{len(out)} frames came out, expected {len(want)}')
    for i, ((w, name), o) in enumerate(zip(want, out)):
        if w != o:
            fails.append(f'output frame {i} ({name}) differs from what went in')
            break
    dropped = {'fcs': 0, 'type': 0, 'len': 0}
    for _, _, exp, _ in plan:
        if exp:
            dropped[exp] += 1
    expect_stats = {'rx': len(plan), 'fcs_bad': dropped['fcs'], 'drop_type': dropped['type'],
                    'drop_len': dropped['len'], 'drop_full': 0, 'fwd': len(want)}
    for k, v in expect_stats.items():
        if int(stats[k]) != v:
            fails.append(f'counter {k} = {stats[k]}, expected {v}')
    # rate: for every pair of frames i < j, the wire bytes of frames i..j-1 must
    # fit in the bucket capacity plus what the rate allowed from start i to start j
    rate = (args.assume_rate_inc or RATE_INC) / 2**FRAC_BITS   # bytes per local clock
    burst = CAPACITY / 2**FRAC_BITS
    wire = [len(o) + 4 + 8 + 12 for o in out]
    worst = 0.0
    for i in range(len(out)):
        acc = 0
        for j in range(i + 1, len(out)):
            acc += wire[j - 1]
            allowed = burst + rate * (starts[j] - starts[i])
            worst = max(worst, acc / allowed)
            if acc > allowed:
                fails.append(f'rate exceeded: frames {i}..{j - 1}: {acc} bytes in '
                             f'{starts[j] - starts[i]} clocks (allowed {allowed:.0f})')
                break
    if len(out) > 1:
        span = starts[-1] - starts[0]
        mbps = sum(wire[:-1]) * 8 / (span * TX_PERIOD_PS / 1e12) / 1e6
        print(f'cosim: {len(out)} frames out, mean wire rate {mbps:.1f} Mb/s '
              f'(limit {rate * 8 / (TX_PERIOD_PS / 1e12) / 1e6:.1f} Mb/s), worst window '
              f'{worst * 100:.1f}% of bucket+rate')
    if args.expect_rate_violation:
        rate_fails = [f for f in fails if f.startswith('rate exceeded')]
        other = [f for f in fails if not f.startswith('rate exceeded')]
        for f in other:
            print('cosim: FAIL: ' + f)
        if rate_fails and not other:
            print(f'cosim: PASS: the rate check caught the violation ({rate_fails[0]})')
            return 0
        print('cosim: FAIL: the rate check did not catch a diode faster than configured')
        return 1
    for f in fails:
        print('cosim: FAIL: ' + f)
    if not fails:
        print(f'cosim: PASS ({len(plan)} frames in, {len(out)} out, '
              f'{len(plan) - len(want)} dropped as expected)')
    return 1 if fails else 0


def gen(args):
    rng = random.Random(args.seed)
    frames = [udp_frame(bytes(rng.randrange(256) for _ in range(args.payload)), port=args.port)
              for _ in range(args.count)]
    write_pcap(args.out, frames)
    return 0


def filtervec(args):
    """Vectors for tb_frame_filter: per frame a line 'verdict length' then its
    bytes in hex, one per line; verdict 0 allowed, 1 type, 2 length."""
    rng = random.Random(args.seed)
    frames = [(0, udp_frame(bytes(rng.randrange(256) for _ in range(n)))) for n in (18, 100, 1472)]
    frames += [(0, f) for _, f in good_extras(rng)]
    code = {'type': 1, 'len': 2}
    frames += [(code[exp], f) for _, f, how, exp in extra_frames(rng) if how == 'none']
    with open(args.out, 'w') as f:
        for v, fr in frames:
            f.write(f'{v} {len(fr)}\n' + ''.join(f'{b:02x}\n' for b in fr))
        f.write('9 0\n')
    return 0


def selftest(args):
    tmp = tempfile.mkdtemp(prefix='sluice-cosim-self-')
    try:
        args.out = os.path.join(tmp, 'in.pcap')
        gen(args)
        args.inp = args.out
        args.out = os.path.join(tmp, 'out.pcap')
        rc = run(args)
        if rc == 0:
            # the written pcap must read back as exactly the frames that came out
            back = read_pcap(args.out)
            sent = read_pcap(args.inp)
            sent_set = set(sent)
            if [f for f in back if f in sent_set] != sent:
                print('cosim: FAIL: output pcap does not hold the input frames in order')
                rc = 1
        return rc
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    sub = ap.add_subparsers(dest='cmd', required=True)
    g = sub.add_parser('gen', help='write a pcap of UDP frames like sluice-tx does')
    g.add_argument('out')
    for p in (g,):
        pass
    r = sub.add_parser('run', help='replay a pcap through the diode, write its output pcap')
    r.add_argument('--in', dest='inp', required=True)
    r.add_argument('--out', required=True)
    fv = sub.add_parser('filtervec', help='write frame_filter test vectors')
    fv.add_argument('out')
    fv.add_argument('--seed', type=int, default=1)
    s = sub.add_parser('selftest', help='gen + run on a temporary pcap')
    for p in (g, s):
        p.add_argument('--count', type=int, default=40)
        p.add_argument('--payload', type=int, default=1472)
        p.add_argument('--port', type=int, default=UDP_PORT)
    for p in (g, r, s):
        p.add_argument('--seed', type=int, default=1)
    for p in (r, s):
        p.add_argument('--sim', choices=['iverilog', 'verilator'], default='iverilog')
        p.add_argument('--build', help='directory for the compiled simulation (default: temporary)')
        p.add_argument('--no-extra', action='store_true', help='replay the input only')
        p.add_argument('--keep', action='store_true', help='keep the stimulus/response files')
        p.add_argument('--assume-rate-inc', type=int, default=0,
                       help='check the output against this RATE_INC instead of the built one '
                            '(a lower value must make the check fail: tests the checker)')
        p.add_argument('--expect-rate-violation', action='store_true',
                       help='exit 0 only if the rate check (and nothing else) fails')
    args = ap.parse_args()
    return {'gen': gen, 'run': run, 'selftest': selftest, 'filtervec': filtervec}[args.cmd](args)


if __name__ == '__main__':
    sys.exit(main())
