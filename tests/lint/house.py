#!/usr/bin/env python3
"""house.py — the shape of the code stays as README's Layout describes it.

Checks, over common/, rx/, tx/ and tools/:
  layout    every .c file is named in README.md's Layout section (an rx
            file may be named in rx/rx.h's layer table instead), and every
            `NAME.c` the Layout names exists there;
  length    no function is longer than 100 lines, from the line of its
            opening brace to its closing one;
  prefix    every function that is not static, in common/ rx/ tx/, starts
            with sl_, rx_ or tx_ (main excepted).

Usage: house.py [REPO_ROOT]   (default: the parent of tests/)
Exit 0: all hold; 1: each finding is named; 2: README has no Layout section.
"""
import os
import re
import sys

from csource import strip

MAX_LINES = 100
PREFIXES = {'common': 'sl_', 'rx': 'rx_', 'tx': 'tx_'}
FOLDERS = ['common', 'rx', 'tx', 'tools']

# A function definition: its name and parameter list at the start of a line,
# the opening brace alone on the next line that is not a continuation.
DEF_RE = re.compile(r'^(?:[a-z_][\w \t\*]*?[\s\*])(?P<name>[a-z_]\w*)\s*\(', re.M)


def sources(root):
    out = []
    for top in FOLDERS:
        for d, _, files in os.walk(os.path.join(root, top)):
            out += [os.path.join(d, f) for f in files if f.endswith('.c')]
    return sorted(out)


def layout_text(root):
    text = open(os.path.join(root, 'README.md')).read()
    m = re.search(r'^## Layout\n(.*?)(?=^## )', text, re.S | re.M)
    if not m:
        return None
    return m.group(1)


def check_layout(root, files, layout):
    bad = []
    rx_h = open(os.path.join(root, 'rx', 'rx.h')).read()
    rx_table = ' '.join(re.findall(r'^ \*\s+L\d+\s+([a-z_ ]+?)\s*:', rx_h, re.M)).split()
    named = {n for n in re.findall(r'`([\w/]+\.c)`', layout) if not n.split('/')[-1][:1].isupper()}
    for f in files:
        rel = os.path.relpath(f, root)
        base = os.path.basename(f)
        if base in named or rel in named:
            continue
        if rel.startswith('rx/') and base[:-2] in rx_table:
            continue
        bad.append(f'layout: {rel} is named neither in README.md\'s Layout'
                   + (' nor in rx/rx.h\'s layer table' if rel.startswith('rx/') else ''))
    have = set()
    for d, _, fs in os.walk(root):
        if '/.git' in d or '/build' in d:
            continue
        for f in fs:
            rel = os.path.relpath(os.path.join(d, f), root)
            have |= {f, rel, rel.split('/', 1)[-1]}
    for n in sorted(named):
        if n not in have:
            bad.append(f'layout: README.md\'s Layout names {n}, which does not exist')
    return bad


def functions(src):
    """(name, static, first line, line count) of each function defined at
    column 0 with its body's braces at column 0."""
    lines = src.split('\n')
    out = []
    for m in DEF_RE.finditer(src):
        start = src.count('\n', 0, m.start())
        i = start
        while i < len(lines) and lines[i] != '{':
            if lines[i].rstrip().endswith(';') or (i > start and lines[i][:1] not in ('', ' ', '\t')):
                break
            i += 1
        if i >= len(lines) or lines[i] != '{':
            continue
        j = i + 1
        while j < len(lines) and lines[j] != '}':
            j += 1
        static = re.match(r'(?:static|(?:inline\s+)?static)\b', lines[start]) is not None
        out.append((m.group('name'), static, start + 1, j - i + 1))
    return out


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    layout = layout_text(root)
    if layout is None:
        print('house: README.md has no "## Layout" section')
        return 2
    files = sources(root)
    bad = check_layout(root, files, layout)
    nfun = 0
    for f in files:
        rel = os.path.relpath(f, root)
        prefix = PREFIXES.get(rel.split('/')[0])
        for name, static, line, n in functions(strip(open(f).read())):
            nfun += 1
            if n > MAX_LINES:
                bad.append(f'length: {rel}:{line} {name} is {n} lines (at most {MAX_LINES}): '
                           'split its steps into functions of their own')
            if prefix and not static and name != 'main' and not name.startswith(prefix):
                bad.append(f'prefix: {rel}:{line} {name} is not static and does not start with {prefix}')
    for b in bad:
        print(b)
    if bad:
        print(f'house: {len(bad)} finding(s) over {len(files)} files')
        return 1
    print(f'house: {len(files)} files, {nfun} functions: named in the Layout, at most {MAX_LINES} lines, prefixed')
    return 0


if __name__ == '__main__':
    sys.exit(main())
