#!/usr/bin/env python3
"""House-style checks on the C sources of harness/ and reports/ (DESIGN.md,
"House style"), as a TAP test: one line per rule, each violation as
FILE:LINE: rule.

    style.py SOURCE_DIR        check SOURCE_DIR/harness and SOURCE_DIR/reports
    style.py --self-test DIR   check the fixture tree DIR (tests/fixtures/style)
                               and fail unless it reports exactly the lines
                               marked there with  /* style-expect: RULE */

Comments, string and character literals are blanked before matching, so a
comment that mentions atoi is not a call.  tests/style-allow.txt lists
FILE:RULE pairs allowed for now (files being rewritten elsewhere).

The one house rule not checked here, a goto that jumps over an LG_AUTOFREE /
LG_AUTO / LG_AUTOBUF declaration, is an error in the clang build; the self-test
makes sure clang with -Werror still refuses the fixture goto_cleanup.c."""
import os
import re
import shutil
import subprocess
import sys

RULES = {
    'unsafe-parse': 'no atoi/atol/atoll/atof/sscanf, no strto* without an end pointer',
    'log-level': 'library layers (base, model, virt, guest, watch) log at debug level only',
    'name-compare': 'OS, transport, arch and panic model names are compared in model/ only',
    'log-init': 'a file that logs declares its module exactly once with LG_LOG_INIT("name");',
    'raw-alloc': 'no malloc/calloc/realloc/strdup/strndup outside harness/base/mem.c: use base/mem.h, which aborts',
}
LIBRARY_LAYERS = ('base', 'model', 'virt', 'guest', 'watch')
# Names that model/ parses into enums, once.
MODEL_NAMES = ('linux', 'windows', 'ssh', 'qemu-ga', 'x86_64', 'aarch64',
               'isa', 'pvpanic-pci', 'hyperv')

ALWAYS_BAD = re.compile(r'\b(atoi|atol|atoll|atof|sscanf|vsscanf)\s*\(')
STRTO = re.compile(r'\b(strto(?:l|ul|ll|ull|d|f|ld|imax|umax))\s*\(')
NULLISH = re.compile(r'^\(?\s*(NULL|0|nullptr|\(\s*char\s*\*\*\s*\)\s*(NULL|0))\s*\)?$')
LOUD_LOG = re.compile(r'\b(LG_INFO|LG_WARN|LG_ERROR)\s*\(|\blg_log\s*\(\s*(LG_LOG_INFO|LG_LOG_WARN|LG_LOG_ERROR)\b')
COMPARE = re.compile(r'\b(strn?cmp|strn?casecmp|g_strcmp0|g_str_equal|g_ascii_strn?casecmp|lg_streq\w*|streq\w*)\s*\(')
LOG_CALL = re.compile(r'\b(LG_DEBUG|LG_INFO|LG_WARN|LG_ERROR)\s*\(')
LOG_INIT = re.compile(r'\bLG_LOG_INIT\b')
LOG_INIT_OK = re.compile(r'^[ \t]*LG_LOG_INIT\("[a-z0-9_-]+"\);[ \t]*$', re.M)
# Allocation failure aborts (DESIGN.md, "House style"): only base/mem.c calls
# the C library's allocators, and aborts when they fail.
RAW_ALLOC = re.compile(r'\b(malloc|calloc|realloc|strdup|strndup)\s*\(')
RAW_ALLOC_HOME = 'harness/base/mem.c'


def blank(text):
    """Returns (code, code_with_strings): comments blanked in both, string and
    character literals blanked in code (their quotes kept).  Same length as
    text, newlines kept, so an offset gives the same line in all three."""
    code = list(text)
    with_str = list(text)
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith('//', i):
            j = text.find('\n', i)
            j = n if j < 0 else j
            for k in range(i, j):
                code[k] = with_str[k] = ' '
            i = j
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            j = n if j < 0 else j + 2
            for k in range(i, j):
                if text[k] != '\n':
                    code[k] = with_str[k] = ' '
            i = j
        elif c in '"\'':
            j = i + 1
            while j < n and text[j] != c and text[j] != '\n':
                j += 2 if text[j] == '\\' else 1
            for k in range(i + 1, min(j, n)):
                if text[k] != '\n':
                    code[k] = ' '
            i = j + 1
        else:
            i += 1
    return ''.join(code), ''.join(with_str)


def call_args(code, open_paren):
    """Top-level argument spans (start, end) of the call whose '(' is at
    open_paren, in code without literals (so parentheses there are real)."""
    depth, start, spans = 0, open_paren + 1, []
    for i in range(open_paren, len(code)):
        c = code[i]
        if c in '([{':
            depth += 1
        elif c in ')]}':
            depth -= 1
            if depth == 0:
                spans.append((start, i))
                return spans
        elif c == ',' and depth == 1:
            spans.append((start, i))
            start = i + 1
    return spans


def line_of(text, offset):
    return text.count('\n', 0, offset) + 1


def directive_lines(code):
    """Line numbers of preprocessor lines (macro definitions are not calls)."""
    lines, cont = set(), False
    for no, line in enumerate(code.split('\n'), 1):
        if cont or line.lstrip().startswith('#'):
            lines.add(no)
            cont = line.rstrip().endswith('\\')
    return lines


def check_file(path, rel):
    """Yields (line, rule) for each violation in one C file; rel is the path
    from the checked root (harness/virt/conn.c)."""
    text = open(path, encoding='utf-8', errors='replace').read()
    code, with_str = blank(text)
    macros = directive_lines(code)
    parts = rel.split('/')
    layer = parts[1] if parts[0] == 'harness' and len(parts) > 2 else parts[0]

    for m in ALWAYS_BAD.finditer(code):
        yield line_of(code, m.start()), 'unsafe-parse'
    for m in STRTO.finditer(code):
        args = call_args(code, m.end() - 1)
        if len(args) >= 2 and NULLISH.match(code[args[1][0]:args[1][1]].strip()):
            yield line_of(code, m.start()), 'unsafe-parse'

    if layer in LIBRARY_LAYERS:
        for m in LOUD_LOG.finditer(code):
            no = line_of(code, m.start())
            if no not in macros:
                yield no, 'log-level'

    if layer != 'model':
        names = '|'.join(re.escape(n) for n in MODEL_NAMES)
        literal = re.compile(r'"(%s)"' % names, re.I)
        for m in COMPARE.finditer(code):
            args = call_args(code, m.end() - 1)
            if args and literal.search(with_str[args[0][0]:args[-1][1]]):
                yield line_of(code, m.start()), 'name-compare'

    if rel != RAW_ALLOC_HOME:
        for m in RAW_ALLOC.finditer(code):
            yield line_of(code, m.start()), 'raw-alloc'

    inits = [m for m in LOG_INIT.finditer(code) if line_of(code, m.start()) not in macros]
    calls = [m for m in LOG_CALL.finditer(code) if line_of(code, m.start()) not in macros]
    if rel.endswith('.h'):
        # every file that includes it would get a second module name
        for m in inits:
            yield line_of(code, m.start()), 'log-init'
    else:
        for m in inits[1:]:
            yield line_of(code, m.start()), 'log-init'
        for m in inits[:1]:
            no = line_of(code, m.start())
            # exactly LG_LOG_INIT("name"); on a line of its own (comments blanked)
            if not LOG_INIT_OK.match(with_str.split('\n')[no - 1]):
                yield no, 'log-init'
        if calls and not inits:
            yield line_of(code, calls[0].start()), 'log-init'


def c_files(root):
    for top in ('harness', 'reports'):
        for dirpath, dirnames, filenames in os.walk(os.path.join(root, top)):
            dirnames.sort()
            for name in sorted(filenames):
                if name.endswith(('.c', '.h')):
                    path = os.path.join(dirpath, name)
                    yield path, os.path.relpath(path, root)


def check_tree(root):
    """Returns {rule: [(rel, line)]} for every C file under root."""
    found = {rule: [] for rule in RULES}
    for path, rel in c_files(root):
        for line, rule in sorted(set(check_file(path, rel))):
            found[rule].append((rel, line))
    return found


def read_allow(path):
    allow = set()
    if os.path.exists(path):
        for raw in open(path, encoding='utf-8'):
            line = raw.split('#', 1)[0].strip()
            if line:
                rel, _, rule = line.rpartition(':')
                if rule not in RULES:
                    sys.exit(f'{path}: unknown rule in "{line}"')
                allow.add((rel, rule))
    return allow


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def result(self, ok, desc, details=()):
        self.n += 1
        print(f'{"ok" if ok else "not ok"} {self.n} - {desc}')
        for d in details:
            print(f'#   {d}')
        if not ok:
            self.failed += 1

    def end(self):
        print(f'1..{self.n}')
        return 1 if self.failed else 0


def main_check(root):
    tap = Tap()
    allow = read_allow(os.path.join(root, 'tests', 'style-allow.txt'))
    used = set()
    for rule, hits in check_tree(root).items():
        bad = []
        for rel, line in hits:
            if (rel, rule) in allow:
                used.add((rel, rule))
            else:
                bad.append(f'{rel}:{line}: {rule}')
        tap.result(not bad, f'{rule}: {RULES[rule]}', bad)
    for rel, rule in sorted(allow - used):
        print(f'# tests/style-allow.txt: {rel}:{rule} no longer needed, remove it')
    return tap.end()


def expected_marks(root):
    want = set()
    mark = re.compile(r'style-expect:\s*([a-z, -]+)')
    for path, rel in c_files(root):
        for no, line in enumerate(open(path, encoding='utf-8'), 1):
            m = mark.search(line)
            if m:
                for rule in m.group(1).split(','):
                    want.add((rel, no, rule.strip()))
    return want


def main_self_test(root):
    tap = Tap()
    want = expected_marks(root)
    got = {(rel, line, rule) for rule, hits in check_tree(root).items() for rel, line in hits}
    for rule in RULES:
        w = {x for x in want if x[2] == rule}
        g = {x for x in got if x[2] == rule}
        details = [f'missed {r}:{l}: {ru}' for r, l, ru in sorted(w - g)]
        details += [f'false alarm {r}:{l}: {ru}' for r, l, ru in sorted(g - w)]
        tap.result(w and w == g, f'self-test {rule}: reports each marked line of the fixtures, no other', details)

    clang = shutil.which('clang')
    fixture = os.path.join(root, 'goto_cleanup.c')
    harness = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'harness')
    if not clang:
        tap.n += 1
        print(f'ok {tap.n} - self-test goto-cleanup: clang refuses a goto over a cleanup variable # SKIP no clang')
    else:
        proc = subprocess.run([clang, '-std=gnu11', '-Werror', '-fsyntax-only', '-I', harness, fixture],
                              capture_output=True, text=True)
        ok = proc.returncode != 0 and 'cannot jump from this goto statement' in proc.stderr
        tap.result(ok, 'self-test goto-cleanup: clang refuses a goto over a cleanup variable',
                   proc.stderr.splitlines()[:10] if not ok else ())
    return tap.end()


if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--self-test':
        sys.exit(main_self_test(sys.argv[2]))
    if len(sys.argv) == 2:
        sys.exit(main_check(sys.argv[1]))
    sys.exit(__doc__)
