# Generates ../test_flat.c from flat_tests.py (needs GNU as and objcopy):
#   python3 gen.py flat_tests.py > ../test_flat.c
# Each test: T(name, intel-syntax assembly with ';' separators, C setup, C checks[, max_insns]).
import os, subprocess, sys, tempfile
TMP = tempfile.mkdtemp(prefix='emu-gen-')
def asm(src):
    open(os.path.join(TMP, 'a.s'),'w').write('.intel_syntax noprefix\n.code64\n'+src.replace(';','\n')+'\n')
    subprocess.check_call(['as','--64','-o',os.path.join(TMP, 'a.o'),os.path.join(TMP, 'a.s')])
    subprocess.check_call(['objcopy','-O','binary','-j','.text',os.path.join(TMP, 'a.o'),os.path.join(TMP, 'a.bin')])
    b=open(os.path.join(TMP, 'a.bin'),'rb').read()
    return ', '.join('0x%02x'%x for x in b), len(b)

tests=[]
def T(name, src, setup='', checks='', max_insns=100000):
    tests.append((name, src, setup, checks, max_insns))

exec(open(sys.argv[1]).read())

out=['/* Programs run through emu_flat_run with asserted results.',
     ' * Generated from assembly (the source is in each comment); the expected',
     ' * values follow the Intel SDM. */',
     '#include <stdlib.h>','#include <string.h>','',
     '#include "../test.h"','#include "accel/emu/emu.h"','#include "flat_util.h"','#include "util/log.h"','',
     '#define RF(bit) ((f->st.rflags & (bit)) != 0)','']
for (name, src, setup, checks, mx) in tests:
    b,n=asm(src)
    out.append('/* %s */' % src.replace('*/','* /'))
    out.append('static void test_%s(struct flat *f)' % name)
    out.append('{')
    out.append('    static const uint8_t code[] = { %s };' % b)
    out.append('    flat_init(f);')
    if setup: out.append('    '+setup.strip().replace('\n','\n    '))
    out.append('    flat_run(f, code, sizeof(code), %d);' % mx)
    out.append('    (void)code;')
    out.append('    '+checks.strip().replace('\n','\n    '))
    out.append('}')
    out.append('')
out.append('int main(void)')
out.append('{')
out.append('    struct flat *f = calloc(1, sizeof(*f));')
for t in tests:
    out.append('    test_%s(f);' % t[0])
out.append('    if (test_failures)')
out.append('        fprintf(stderr, "last error: %s\\n", err_get());')
out.append('    free(f);')
out.append('    TEST_MAIN_END();')
out.append('}')
print('\n'.join(out))
