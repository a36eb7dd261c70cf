#!/usr/bin/env python3
"""report.py OUTDIR SEED MIN_MHZ — summarise a run.sh build (cells, RAM, Fmax per clock)."""
import re, sys

out, seed, min_mhz = sys.argv[1], sys.argv[2], float(sys.argv[3])
stat = open(f'{out}/stat.txt').read()
cells = dict(re.findall(r'^\s+(SB_\w+)\s+(\d+)$', stat, re.M))
total = re.search(r'Number of cells:\s+(\d+)', stat).group(1)
log = open(f'{out}/nextpnr.log').read()
fmax = {}
crit = {}
for clk, mhz in re.findall(r"Max frequency for clock\s+'([^']+)': ([\d.]+) MHz", log):
    fmax[clk.split('$')[0]] = float(mhz)        # the last report (after routing) wins
util = re.findall(r'Info:\s+(ICESTORM_LC|ICESTORM_RAM|SB_IO|SB_GB):\s+(\d+)/\s*(\d+)', log)
lines = [f'diode_hx8k on iCE40 HX8K (CT256), yosys synth_ice40 -abc9, nextpnr-ice40 --seed {seed}',
         f'cells: {total}  ' + '  '.join(f'{k} {v}' for k, v in sorted(cells.items())),
         'RAM blocks (SB_RAM40_4K): ' + cells.get('SB_RAM40_4K', '0') + ' of 32']
for name, used, avail in util[-4:]:
    lines.append(f'placed {name}: {used}/{avail}')
bad = []
for clk, mhz in fmax.items():
    lines.append(f'Fmax {clk}: {mhz:.2f} MHz (target 125)')
    if mhz < min_mhz:
        bad.append(clk)
# the logic on each clock's critical path (the last report, after routing)
cur = None
for l in log.splitlines():
    m = re.search(r"Critical path report for clock '([^']+)'", l)
    if m:
        cur = m.group(1).split('$')[0]
        crit[cur] = []
    elif cur and 'Source' in l:
        cell = l.split()[4]
        if not ('CARRY' in cell and 'COUT' in cell):
            crit[cur].append(cell.split('_SB_')[0])
    elif cur and ('Max frequency' in l or 'cross-domain' in l):
        cur = None
for clk, path in crit.items():
    lines.append(f'critical path {clk}: ' + ' -> '.join(dict.fromkeys(path)))
lines.append('(clk_local is reported as hs_gtx_clk: the forwarded transmit clock is the same net)')
print('\n'.join(lines))
open(f'{out}/report.txt', 'w').write('\n'.join(lines) + '\n')
if bad:
    print('below %.1f MHz: %s' % (min_mhz, ', '.join(bad)), file=sys.stderr)
    sys.exit(1)
