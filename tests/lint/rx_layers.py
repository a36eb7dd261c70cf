#!/usr/bin/env python3
"""rx_layers.py — sluice-rx's files call one way (rx/rx.h, "Layers").

The layer table is read from the comment at the top of rx/rx.h: lines
" *   L<n> file file ...: what they do", L1 on top. A file may call the
non-static rx_ functions of files of its own layer or below, never above;
and no two files may call each other, whatever their layers (that is a
circle, as is any longer circle). Every rx/*.c file must be in the table.

Usage: rx_layers.py [REPO_ROOT]   (default: the parent of tests/)
Exit 0: the calls run one way; 1: each offending call is named; 2: the
table cannot be read.
"""
import os
import re
import sys

from csource import strip

# Calls allowed against the table, each with why: a circle not yet taken
# apart. (caller file, callee function) -> why. None now: quota.c, which
# evicted another transfer for room by calling back up into ending.c, marks
# it instead (x->evicted) and dispatch.c and poll.c drop it
# (tests/unit/test_rx_reentry.c).
EXCEPTIONS = {}

DEF_RE = re.compile(r'^(?!static)[a-z][^\n;]*?\b(rx_\w+)\s*\(', re.M)
LAYER_RE = re.compile(r'^ \*\s+L(\d+)\s+([a-z_ ]+?)\s*:', re.M)


def read_layers(rx_h):
    layers = {}
    for m in LAYER_RE.finditer(open(rx_h).read()):
        for f in m.group(2).split():
            if f in layers:
                raise ValueError(f'{f} is in two layers')
            layers[f] = int(m.group(1))
    return layers


def circles(calls, exceptions, owner):
    """Circles longer than two files (within a layer the table cannot see
    them), without the excepted calls."""
    graph = {}
    for (a, b), fns in calls.items():
        if any((a, fn) not in exceptions for fn in fns):
            graph.setdefault(a, set()).add(b)
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(graph.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            scc = []
            while True:
                w = stack.pop()
                on.discard(w)
                scc.append(w)
                if w == v:
                    break
            if len(scc) > 2:
                out.append('rx/{' + ','.join(sorted(scc)) + '}.c call each other in a circle')
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), '..', '..')
    rxdir = os.path.join(root, 'rx')
    try:
        layers = read_layers(os.path.join(rxdir, 'rx.h'))
    except (OSError, ValueError) as e:
        print(f'rx_layers: rx/rx.h: {e}')
        return 2
    names = sorted(f[:-2] for f in os.listdir(rxdir) if f.endswith('.c'))
    if not layers:
        print('rx_layers: rx/rx.h has no layer table (lines " *   L<n> file ...: ...")')
        return 2
    srcs = {n: strip(open(os.path.join(rxdir, n + '.c')).read()) for n in names}
    bad = []
    for n in names:
        if n not in layers:
            bad.append(f'rx/{n}.c is in no layer of the table in rx/rx.h')
    for f in sorted(layers):
        if f not in srcs:
            bad.append(f'the table in rx/rx.h names {f}, which is not a file of rx/')
    owner = {}
    for n in names:
        for m in DEF_RE.finditer(srcs[n]):
            owner[m.group(1)] = n
    calls = {}  # (caller file, callee file) -> callee functions
    for n in names:
        for fn, o in owner.items():
            if o != n and re.search(r'\b' + fn + r'\s*\(', srcs[n]):
                calls.setdefault((n, o), []).append(fn)
    used = set()
    for (a, b), fns in sorted(calls.items()):
        for fn in sorted(fns):
            why = None
            if a in layers and b in layers and layers[b] < layers[a]:
                why = f'calls up: L{layers[a]} {a}.c -> L{layers[b]} {b}.c'
            elif (b, a) in calls:
                why = f'{a}.c and {b}.c call each other'
            if not why:
                continue
            if (a, fn) in EXCEPTIONS:
                used.add((a, fn))
                continue
            bad.append(f'rx/{a}.c calls {fn} ({why})')
    bad += circles(calls, EXCEPTIONS, owner)
    for a, fn in sorted(set(EXCEPTIONS) - used):
        bad.append(f'exception ({a}, {fn}) in {os.path.basename(__file__)} is no longer needed: remove it')
    for line in bad:
        print('rx_layers: ' + line)
    if bad:
        print(f'rx_layers: {len(bad)} problem(s); the layers are in the comment at the top of rx/rx.h')
        return 1
    print(f'rx_layers: {len(names)} files in {len(set(layers.values()))} layers, calls run one way')
    return 0


if __name__ == '__main__':
    sys.exit(main())
