"""csource.py — C source text for the lint checks (rx_layers.py, house.py).

strip(src): comments, string and character literals blanked in one pass,
so a "//" or "/*" inside a string is not taken for a comment; line breaks
are kept, so line numbers stay those of the file.
"""
import re

TOKEN_RE = re.compile(r'/\*.*?\*/|//[^\n]*|"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', re.S)


def strip(src):
    def blank(m):
        t = m.group(0)
        if t[0] in '"\'':
            return t[0] * 2
        return re.sub(r'[^\n]', ' ', t)
    return TOKEN_RE.sub(blank, src)
