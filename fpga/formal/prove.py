#!/usr/bin/env python3
"""prove.py — one-way proofs of diode_top (fpga/rtl), and of the mutants that must fail them.

  prove.py structural [--mutant M]   yosys: on the synthesized (synth_ice40) netlist,
      (a) the only inputs are low-side pins and board signals, and (b) no high-side
      input (hs_*) is in the fan-in cone of any low-side output (lo_*, stat_*, led_*).
  prove.py equiv [--mutant M]        yosys equiv_make/equiv_induct: the design whose
      high-side pins are free inputs is sequentially equivalent to the design with
      them tied to 0 (unbounded; clk2fflogic, so any interleaving of the two clocks).
  prove.py bmc [--mutant M] [--depth N]  yosys-smtbmc + z3 (--unroll): two copies share
      every low-side input and get independent high-side inputs; their low-side
      outputs must be equal for N steps from power-up (bounded).
  --expect-fail: exit 0 only if the proof FAILS (for the mutant tests).

The board's high-side PHY pins a broken design might read are modelled as the
free inputs HS_PINS below; the real diode_top has none of them, so it cannot
read them; a mutant (formal/mutants.py) adds one.
"""
import argparse, os, re, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
RTL = os.path.join(os.path.dirname(HERE), 'rtl')
sys.path.insert(0, HERE)
import mutants  # noqa: E402

# the high-side PHY's pins that could be wired in (receive side, status, MDIO in)
HS_PINS = ['hs_rx_pause', 'hs_link', 'hs_mdio_i', 'hs_rx_dv', 'hs_rx_er', 'hs_int_n']
LOW_OUT = re.compile(r'^(lo_|stat_|led_)')
# a small configuration for the sequential proofs (same RTL, smaller parameters)
SMALL = dict(FIFO_ADDR_W=4, FIFO_LEN_AW=2, MIN_LEN=14, MAX_LEN=15, LEN_W=5,
             TOK_W=8, FRAC_BITS=0, RATE_INC=2, CAPACITY=80, START_TOKENS=39,
             PHY_RESET_CLKS=2, PHY_WAIT_CLKS=2, PHY_CNT_W=3, MDC_DIV=2,
             STAT_W=8, STAT_DIV=2, STAT_PERIOD=40, STAT_PER_W=6)


def rtl_files(mutant, tmp):
    files = {f: open(os.path.join(RTL, f)).read() for f in sorted(os.listdir(RTL)) if f.endswith('.v')}
    if mutant:
        files = mutants.apply(mutant, files)
    d = os.path.join(tmp, 'rtl')
    os.makedirs(d)
    for f, t in files.items():
        open(os.path.join(d, f), 'w').write(t)
    return [os.path.join(d, f) for f in files], files['diode_top.v']


def ports(top):
    body = top[top.index('module diode_top'):top.index(');', top.index(') (') + 3)]
    out = []
    for m in re.finditer(r'^\s*(input|output)\s+(?:wire|reg)\s*(\[[^\]]+\])?\s*(\w+)', body, re.M):
        width = m.group(2) or ''
        for k, v in SMALL.items():      # port widths in the small configuration
            width = re.sub(r'\b%s\b' % k, str(v), width)
        out.append((m.group(1), width, m.group(3)))
    return out


def yosys(script, tmp, name):
    path = os.path.join(tmp, name + '.ys')
    open(path, 'w').write(script)
    p = subprocess.run(['yosys', '-q', '-l', os.path.join(tmp, name + '.log'), '-s', path],
                       capture_output=True, text=True)
    return p.returncode, open(os.path.join(tmp, name + '.log')).read() + p.stderr


def structural(args, tmp):
    srcs, top = rtl_files(args.mutant, tmp)
    # list the inputs and the cone, then assert both properties in yosys itself
    script = f"""read_verilog {' '.join(srcs)}
synth_ice40 -top diode_top
flatten
tee -o {tmp}/inputs.txt select -list i:*
tee -o {tmp}/cone.txt select -list o:lo_* o:stat_* %u o:led_* %u %ci* i:* %i
select -assert-none i:* i:lo_* %d i:clk_local %d i:rst_n %d
select -assert-none o:lo_* o:stat_* %u o:led_* %u %ci* i:hs_* %i
"""
    rc, log = yosys(script, tmp, 'structural')
    if not os.path.exists(f'{tmp}/cone.txt'):
        print(log[-3000:])
        return 'error', 'yosys failed'
    inputs = [l.split('/')[-1] for l in open(f'{tmp}/inputs.txt').read().split() if '/' in l]
    cone = [l.split('/')[-1] for l in open(f'{tmp}/cone.txt').read().split() if '/' in l]
    allowed = {'clk_local', 'rst_n'}
    foreign = [i for i in inputs if not (i.startswith('lo_') or i in allowed)]
    hs_in_cone = [i for i in cone if i.startswith('hs_')]
    print(f'structural: inputs {sorted(inputs)}')
    print(f'structural: inputs in the cone of the low-side outputs: {sorted(cone)}')
    bad = []
    if foreign:
        bad.append(f'inputs that are neither low-side nor board signals: {foreign}')
    if hs_in_cone:
        bad.append(f'high-side inputs in the fan-in cone of low-side outputs: {hs_in_cone}')
    if (rc == 0) == bool(bad):
        return 'error', 'yosys select -assert-none disagrees with the cone listing'
    return ('fail', '; '.join(bad)) if bad else ('pass', 'no high-side input, no high-side signal in any low-side cone')


def harness_ports(top):
    ps = ports(top)
    ins = [(w, n) for d, w, n in ps if d == 'input' and not n.startswith('hs_')]
    hs = [n for d, w, n in ps if d == 'input' and n.startswith('hs_')]
    unknown = [n for n in hs if n not in HS_PINS]
    if unknown:
        raise SystemExit(f'prove.py: high-side inputs not in HS_PINS: {unknown}')
    outs = [(w, n) for d, w, n in ps if d == 'output' and LOW_OUT.match(n)]
    his = [(w, n) for d, w, n in ps if d == 'output' and not LOW_OUT.match(n)]
    return ins, hs, outs, his


def inst(name, top, hs_expr):
    ins, hs, outs, his = harness_ports(top)
    params = ', '.join(f'.{k}({v})' for k, v in SMALL.items())
    conns = [f'.{n}({n})' for _, n in ins]
    conns += [f'.{n}({hs_expr(n)})' for n in hs]
    conns += [f'.{n}({name}_{n})' for _, n in outs]
    conns += [f'.{n}()' for _, n in his]
    decl = ''.join(f'    wire {w} {name}_{n};\n' for w, n in outs)
    return decl + f'    diode_top #({params}) {name} (\n        ' + ',\n        '.join(conns) + ');\n'


def equiv(args, tmp):
    srcs, top = rtl_files(args.mutant, tmp)
    ins, hs, outs, _ = harness_ports(top)
    hdr = ', '.join([n for _, n in ins] + ['hs_free'] + [n for _, n in outs])
    decls = ''.join(f'    input wire {w} {n};\n' for w, n in ins)
    decls += f'    input wire [{len(HS_PINS) - 1}:0] hs_free;\n'
    decls += ''.join(f'    output wire {w} {n};\n' for w, n in outs)
    v = ''
    for mod, expr in (('gold', lambda n: "1'b0"), ('gate', lambda n: f'hs_free[{HS_PINS.index(n)}]')):
        body = inst('u', top, expr) + ''.join(f'    assign {n} = u_{n};\n' for _, n in outs)
        v += f'module {mod}({hdr});\n{decls}{body}endmodule\n'
    open(f'{tmp}/equiv_harness.v', 'w').write(v)
    script = f"""read_verilog {' '.join(srcs)}
read_verilog {tmp}/equiv_harness.v
hierarchy -check
proc
flatten
memory -nomap
memory_map
opt_clean
clk2fflogic
equiv_make gold gate equiv
hierarchy -top equiv
equiv_struct
equiv_induct -seq 4
equiv_status -assert
"""
    rc, log = yosys(script, tmp, 'equiv')
    m = re.findall(r'Found (\d+) \$equiv cells.*?\n.*?Of those cells (\d+) are proven and (\d+) are unproven', log, re.S)
    summary = f'{m[-1][0]} $equiv cells, {m[-1][1]} proven, {m[-1][2]} unproven' if m else ''
    if rc == 0:
        return 'pass', summary
    if 'unproven $equiv cells' in log or (m and m[-1][2] != '0'):
        return 'fail', summary
    print(log[-3000:])
    return 'error', 'yosys failed'


def bmc(args, tmp):
    srcs, top = rtl_files(args.mutant, tmp)
    ins, hs, outs, _ = harness_ports(top)
    n = len(HS_PINS)
    decls = ''.join(f'    input wire {w} {nm};\n' for w, nm in ins)
    hdr = ', '.join([nm for _, nm in ins] + ['hs_a', 'hs_b'])
    v = f'module ni2({hdr});\n{decls}    input wire [{n - 1}:0] hs_a;\n    input wire [{n - 1}:0] hs_b;\n'
    v += inst('a', top, lambda nm: f'hs_a[{HS_PINS.index(nm)}]')
    v += inst('b', top, lambda nm: f'hs_b[{HS_PINS.index(nm)}]')
    cmp = ' && '.join(f'a_{nm} == b_{nm}' for _, nm in outs)
    v += f'    always @* assert ({cmp});\nendmodule\n'
    open(f'{tmp}/ni2.v', 'w').write(v)
    # Power-up state: every flip-flop and RAM bit 0, as an iCE40 configures them;
    # both copies therefore start equal. Both clocks tick together every step.
    script = f"""read_verilog {' '.join(srcs)}
read_verilog -formal {tmp}/ni2.v
prep -top ni2
flatten
memory -nomap
memory_map
opt_clean
async2sync
setundef -zero -init
dffunmap
write_smt2 -wires {tmp}/ni2.smt2
"""
    rc, log = yosys(script, tmp, 'bmc')
    if rc != 0:
        print(log[-3000:])
        return 'error', 'yosys failed'
    p = subprocess.run(['yosys-smtbmc', '-s', 'z3', '--unroll', '--presat', '-t', str(args.depth),
                        f'{tmp}/ni2.smt2'], capture_output=True, text=True)
    out = p.stdout + p.stderr
    tail = [l for l in out.splitlines() if 'Status' in l or 'failed' in l.lower()]
    if 'Status: PASSED' in out:
        return 'pass', f'low-side outputs equal for {args.depth} steps'
    if 'Status: FAILED' in out:
        step = re.findall(r'Checking assertions in step (\d+)', out)
        return 'fail', f'low-side outputs differ at step {step[-1] if step else "?"}'
    print(out[-3000:])
    return 'error', ' '.join(tail)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('proof', choices=['structural', 'equiv', 'bmc'])
    ap.add_argument('--mutant', choices=sorted(mutants.MUTANTS))
    ap.add_argument('--depth', type=int, default=60)
    ap.add_argument('--expect-fail', action='store_true')
    ap.add_argument('--keep', action='store_true')
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix='sluice-prove-')
    t0 = time.time()
    try:
        verdict, why = {'structural': structural, 'equiv': equiv, 'bmc': bmc}[args.proof](args, tmp)
    finally:
        if args.keep:
            print(f'prove: kept {tmp}')
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    what = f'{args.proof} on {"mutant " + args.mutant if args.mutant else "diode_top"}'
    print(f'prove: {what}: {verdict.upper()} ({why}) in {time.time() - t0:.1f} s')
    if verdict == 'error':
        return 2
    if args.expect_fail:
        return 0 if verdict == 'fail' else 1
    return 0 if verdict == 'pass' else 1


if __name__ == '__main__':
    sys.exit(main())
