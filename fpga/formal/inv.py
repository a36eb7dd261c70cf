#!/usr/bin/env python3
"""inv.py — invariant proofs of single modules: BMC, then k-induction, with
yosys-smtbmc and z3 (--unroll). The properties live in the modules themselves,
under `ifdef FORMAL` (iverilog, Verilator and synthesis never see them).

  inv.py fifo|rate|filter [--bmc N] [--induct K]

  fifo    axis_async_frame_fifo, two free-running asynchronous clocks
          (clk2fflogic): no overflow, no underflow, no read of uncommitted data,
          no gap inside an emitted frame, no byte of a failed frame emitted.
  rate    axis_rate_limit: bucket never above CAPACITY, never below zero.
          The tag property (no failed byte emitted) is bounded only (BMC).
  filter  frame_filter: a frame marked bad on input leaves marked bad; a frame
          that leaves unmarked has an allowed length and EtherType. Bounded
          only: the induction needs strengthening invariants not written yet.
Exit status 0 only if every proof attempted passes.
"""
import argparse, os, shutil, subprocess, sys, tempfile, time

HERE = os.path.dirname(os.path.abspath(__file__))
RTL = os.path.join(os.path.dirname(HERE), 'rtl')

TARGETS = {
    #         top module, files, parameters, multiclock, default BMC depth, default k
    'fifo':   ('axis_async_frame_fifo', ['axis_async_frame_fifo.v'],
               dict(ADDR_W=3, LEN_AW=2, LEN_W=4), True, 12, 4),
    'rate':   ('axis_rate_limit', ['axis_rate_limit.v'],
               dict(TOK_W=8, FRAC_BITS=1, RATE_INC=3, MAX_LEN=5, OVERHEAD=3, LEN_W=4,
                    CAPACITY=40, START_TOKENS=16), False, 30, 12),
    'filter': ('frame_filter', ['frame_filter.v'],
               dict(MIN_LEN=14, MAX_LEN=20, LEN_W=5), False, 24, 0),
}


def run(target, bmc_depth, k, keep):
    top, files, params, multiclock, d0, k0 = TARGETS[target]
    bmc_depth = bmc_depth or d0
    k = k0 if k is None else k
    tmp = tempfile.mkdtemp(prefix=f'sluice-inv-{target}-')
    try:
        for mode, n in (('bmc', bmc_depth), ('induction', k)):
            if n == 0:
                print(f'inv: {target} {mode}: not attempted (bounded proof only)')
                continue
            # the BMC also checks the properties marked FORMAL_BOUNDED
            defs = '-DFORMAL -DFORMAL_BOUNDED' if mode == 'bmc' else '-DFORMAL'
            chp = ' '.join(f'-set {p} {v}' for p, v in params.items())
            script = f"""read_verilog -formal {defs} {' '.join(os.path.join(RTL, f) for f in files)}
{'chparam ' + chp + ' ' + top if chp else ''}
prep -top {top}
memory -nomap
memory_map
opt_clean
{'clk2fflogic' if multiclock else 'async2sync'}
setundef -zero -init
dffunmap
write_smt2 -wires {tmp}/{target}_{mode}.smt2
"""
            open(f'{tmp}/{target}_{mode}.ys', 'w').write(script)
            p = subprocess.run(['yosys', '-q', '-s', f'{tmp}/{target}_{mode}.ys'],
                               capture_output=True, text=True)
            if p.returncode != 0:
                print(p.stdout[-3000:] + p.stderr[-3000:])
                return 2
            t0 = time.time()
            cmd = ['yosys-smtbmc', '-s', 'z3', '--unroll', '--presat', '-t', str(n)]
            if mode == 'induction':
                cmd.append('-i')
            r = subprocess.run(cmd + [f'{tmp}/{target}_{mode}.smt2'], capture_output=True, text=True)
            out = r.stdout + r.stderr
            passed = r.returncode == 0 and 'Status: PASSED' in out
            print(f'inv: {target} {mode} depth {n}: {"PASS" if passed else "FAIL"} '
                  f'in {time.time() - t0:.1f} s')
            if not passed:
                print('\n'.join(l for l in out.splitlines()
                                if 'failed' in l.lower() or 'Assert' in l or 'Status' in l)[-3000:])
                return 1
        return 0
    finally:
        if keep:
            print(f'inv: kept {tmp}')
        else:
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('target', choices=sorted(TARGETS))
    ap.add_argument('--bmc', type=int, default=0, help='BMC depth')
    ap.add_argument('--induct', type=int, default=None, help='k for k-induction (0: skip)')
    ap.add_argument('--keep', action='store_true')
    a = ap.parse_args()
    return run(a.target, a.bmc, a.induct, a.keep)


if __name__ == '__main__':
    sys.exit(main())
