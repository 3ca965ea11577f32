#!/usr/bin/env python3
"""Embed a file into a C source as a NUL-terminated string, so the binary
carries its own schema and works wherever it is copied."""
import sys

name, src, dst = sys.argv[1:4]
data = open(src, 'rb').read()
with open(dst, 'w') as out:
    out.write('/* generated from %s: do not edit */\n' % src)
    out.write('const char %s[] = {\n' % name)
    for i in range(0, len(data), 16):
        out.write('  ' + ', '.join(str(b) for b in data[i:i + 16]) + ',\n')
    out.write('  0\n};\n')
    out.write('const unsigned long %s_len = %d;\n' % (name, len(data)))
