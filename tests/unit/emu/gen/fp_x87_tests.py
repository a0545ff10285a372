# x87 programs for gen.py (python3 gen.py fp_x87_tests.py > ../test_x87_flat.c).
# Expected values are worked out from the SDM (rounding computed exactly by
# hand / with Python fractions), not taken from a host run.
FP = 'f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;\n'
END = 'CHECK_EQ(f->rc, 0);\nCHECK_EQ(f->res.vector, 3);\n'
def q(off): return '({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + %d, 8); _v; })' % off
def w(off): return '({ uint16_t _v; memcpy(&_v, f->mem + 0x8000 + %d, 2); _v; })' % off
def d(off): return '({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + %d, 4); _v; })' % off
TOP = '((f->st.fx.fsw >> 11) & 7)'

T('x87_add_store', 'fld1; fld1; faddp; fstp qword ptr [0x408000]; int3', FP,
  END + 'CHECK_EQ(%s, 0x4000000000000000ull);\nCHECK_EQ(%s, 0);\nCHECK_EQ(f->st.fx.ftw, 0);\nCHECK_EQ(f->st.fx.fsw & 0x3f, 0);' % (q(0), TOP))
# 1/3 under each precision control, stored as m80
for name, fcw, mant in [('pc24', 0x07f, 0xaaaaab0000000000), ('pc53', 0x27f, 0xaaaaaaaaaaaaa800),
                        ('pc64', 0x37f, 0xaaaaaaaaaaaaaaab), ('pc64_down', 0x77f, 0xaaaaaaaaaaaaaaaa)]:
    T('x87_third_' + name, 'fldcw word ptr [0x408100]; fld1; fidiv dword ptr [0x408104]; fstp tbyte ptr [0x408000]; int3',
      FP + 'uint16_t cw = 0x%x; uint32_t three = 3; memcpy(f->mem + 0x8100, &cw, 2); memcpy(f->mem + 0x8104, &three, 4);' % fcw,
      END + 'CHECK_EQ(%s, 0x%xull);\nCHECK_EQ(%s, 0x3ffd);\nCHECK_EQ(f->st.fx.fsw & 0x3f, 0x20); /* PE */' % (q(0), mant, w(8)))
T('x87_fldpi', 'fldpi; fstp tbyte ptr [0x408000]; int3', FP,
  END + 'CHECK_EQ(%s, 0xc90fdaa22168c235ull);\nCHECK_EQ(%s, 0x4000);' % (q(0), w(8)))
# stack underflow: both operands empty -> IE|SF, C1=0, ST0 = indefinite
T('x87_underflow', 'fadd st(0), st(1); fstp tbyte ptr [0x408000]; int3', FP,
  END + 'CHECK_EQ(%s, 0xc000000000000000ull);\nCHECK_EQ(%s, 0xffff);\nCHECK_EQ(f->st.fx.fsw & 0x2ff, 0x41);' % (q(0), w(8)))
# stack overflow: the ninth push -> IE|SF|C1, ST0 = indefinite
T('x87_overflow', 'fld1; fld1; fld1; fld1; fld1; fld1; fld1; fld1; fldz; fnstsw ax; fstp tbyte ptr [0x408000]; int3', FP,
  END + 'CHECK_EQ(%s, 0xc000000000000000ull);\nCHECK_EQ(%s, 0xffff);\nCHECK_EQ(f->st.regs[GPR_RAX] & 0x3ac1, 0x3a41); /* TOP 7, C1, SF, IE */\nCHECK_EQ(f->st.fx.ftw, 0x7f);\nCHECK_EQ(%s, 0);' % (q(0), w(8), TOP))
# compares: C3 C2 C0 through FNSTSW AX
T('x87_fcom_gt', 'fld1; fld qword ptr [0x408100]; fcom st(1); fnstsw ax; fcompp; int3',
  FP + 'double two = 2.0; memcpy(f->mem + 0x8100, &two, 8);',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0);\nCHECK_EQ(f->st.regs[GPR_RAX] & 0x3800, 6 << 11);\nCHECK_EQ(%s, 0);\nCHECK_EQ(f->st.fx.ftw, 0);' % TOP)
T('x87_fcom_lt', 'fld qword ptr [0x408100]; fld1; fcomp st(1); fnstsw ax; int3',
  FP + 'double two = 2.0; memcpy(f->mem + 0x8100, &two, 8);',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x0100);\nCHECK_EQ(%s, 7);' % TOP)
T('x87_fcom_eq', 'fld1; fld1; fcompp; fnstsw ax; int3', FP,
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x4000);\nCHECK_EQ(%s, 0);' % TOP)
T('x87_fcom_nan', 'fld qword ptr [0x408100]; fld1; fcompp; fnstsw ax; int3',
  FP + 'uint64_t qnan = 0x7ff8000000000000ull; memcpy(f->mem + 0x8100, &qnan, 8);',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x4500);\nCHECK_EQ(f->st.fx.fsw & 1, 1); /* FCOM: IE on QNaN */')
T('x87_fucom_nan', 'fld qword ptr [0x408100]; fld1; fucompp; fnstsw ax; int3',
  FP + 'uint64_t qnan = 0x7ff8000000000000ull; memcpy(f->mem + 0x8100, &qnan, 8);',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x4500);\nCHECK_EQ(f->st.fx.fsw & 1, 0); /* FUCOM: no IE on QNaN */')
T('x87_fcomi', 'fld1; fldz; fcomi st(0), st(1); setb al; setz bl; fucomip st(0), st(1); fstp st(0); int3', FP,
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0xff, 1);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xff, 0);\nCHECK_EQ(%s, 0);\nCHECK_EQ(f->st.fx.ftw, 0);' % TOP)
T('x87_fcmov', 'fld1; fldz; stc; fcmovb st(0), st(1); fstp qword ptr [0x408000]; clc; fldz; fcmovb st(0), st(1); fstp qword ptr [0x408008]; fstp st(0); int3', FP,
  END + 'CHECK_EQ(%s, 0x3ff0000000000000ull);\nCHECK_EQ(%s, 0);' % (q(0), q(8)))
# integer stores: overflow gives the integer indefinite; FISTTP truncates
T('x87_fist_overflow', 'fld qword ptr [0x408100]; fistp dword ptr [0x408000]; int3',
  FP + 'double big = 1e10; memcpy(f->mem + 0x8100, &big, 8);',
  END + 'CHECK_EQ(%s, 0x80000000u);\nCHECK_EQ(f->st.fx.fsw & 0x3f, 1);' % d(0))
T('x87_fisttp', 'fld qword ptr [0x408100]; fisttp dword ptr [0x408000]; fld qword ptr [0x408108]; fisttp word ptr [0x408004]; fld qword ptr [0x408100]; fistp dword ptr [0x408008]; int3',
  FP + 'double a = 2.7, b = -2.7; memcpy(f->mem + 0x8100, &a, 8); memcpy(f->mem + 0x8108, &b, 8);',
  END + 'CHECK_EQ(%s, 2);\nCHECK_EQ(%s, 0xfffe);\nCHECK_EQ(%s, 3);' % (d(0), w(4), d(8)))
T('x87_fbstp', 'fild dword ptr [0x408100]; fbstp tbyte ptr [0x408000]; int3',
  FP + 'int32_t v = -12345; memcpy(f->mem + 0x8100, &v, 4);',
  END + 'CHECK_EQ(%s, 0x12345);\nCHECK_EQ(f->mem[0x8009], 0x80);' % q(0))
T('x87_fxam_empty', 'fxam; fnstsw ax; int3', FP,
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0x4500, 0x4100);')
T('x87_fsqrt_neg', 'fld1; fchs; fsqrt; fstp qword ptr [0x408000]; int3', FP,
  END + 'CHECK_EQ(%s, 0xfff8000000000000ull);\nCHECK_EQ(f->st.fx.fsw & 1, 1);' % q(0))
T('x87_fprem', 'fild dword ptr [0x408104]; fild dword ptr [0x408100]; fprem; fnstsw ax; fistp dword ptr [0x408000]; fstp st(0); int3',
  FP + 'int32_t a = 17, b = 5; memcpy(f->mem + 0x8100, &a, 4); memcpy(f->mem + 0x8104, &b, 4);',
  # 17 = 3*5 + 2: quotient 3 -> C1 = q0 = 1, C3 = q1 = 1, C0 = q2 = 0; C2 = 0 (complete)
  END + 'CHECK_EQ(%s, 2);\nCHECK_EQ(f->st.regs[GPR_RAX] & 0x4700, 0x4200);' % d(0))
# control instructions
T('x87_fnstenv', 'fld1; fnstenv [0x408000]; fnstcw word ptr [0x408020]; int3', FP,
  END + 'CHECK_EQ(%s, 0xffff037f);\nCHECK_EQ(%s, 0xffff0000u | (7u << 11));\nCHECK_EQ(%s, 0xffff3fff); /* ST0 (phys 7) valid, rest empty */\nCHECK_EQ(%s, (uint32_t)FLAT_BASE);\nCHECK_EQ(%s >> 16, 0x1e8); /* FOP of D9 E8 */\nCHECK_EQ(%s, 0x37f | 0x3f);' % (d(0), d(4), d(8), d(12), d(16), w(0x20)))
T('x87_fldenv_pending', 'fldenv [0x408000]; fnop; int3',
  FP + 'uint32_t env[7] = { 0xffff037b, 0xffff0004, 0xffffffff, 0, 0, 0, 0xffff0000 }; memcpy(f->mem + 0x8000, env, sizeof(env));',
  'CHECK_EQ(f->rc, 0);\nCHECK_EQ(f->res.vector, 16); /* #MF at FNOP */\nCHECK_EQ(f->st.rip, FLAT_BASE + 7);\nCHECK_EQ(f->st.fx.fsw & 0x8080, 0x8080);')
T('x87_unmasked_zerodiv', 'fldcw word ptr [0x408100]; fld1; fldz; fdivp st(1), st(0); fld1; int3',
  FP + 'uint16_t cw = 0x37b; memcpy(f->mem + 0x8100, &cw, 2);',
  'CHECK_EQ(f->rc, 0);\nCHECK_EQ(f->res.vector, 16);\nCHECK_EQ(f->st.rip, FLAT_BASE + 13);\nCHECK_EQ(f->st.fx.fsw & 0x80bf, 0x8084);')
T('x87_fnclex_fninit', 'fldcw word ptr [0x408100]; fld1; fldz; fdivp st(1), st(0); fnclex; fld1; fninit; int3',
  FP + 'uint16_t cw = 0x37b; memcpy(f->mem + 0x8100, &cw, 2);',
  END + 'CHECK_EQ(f->st.fx.fsw, 0);\nCHECK_EQ(f->st.fx.fcw, 0x37f);\nCHECK_EQ(f->st.fx.ftw, 0);')
T('x87_fsave_frstor', 'fld1; fldpi; fnsave [0x408000]; fld1; frstor [0x408000]; fstp tbyte ptr [0x408100]; int3', FP,
  END + 'CHECK_EQ(%s, 0xc90fdaa22168c235ull);\nCHECK_EQ(%s, 0xffff037f);\nCHECK_EQ(%s, 7);\nCHECK_EQ(f->st.fx.ftw, 0x80);' % (q(0x100), d(0), TOP))
T('x87_fldcw_reserved', 'fldcw word ptr [0x408100]; fnstcw word ptr [0x408000]; int3',
  FP + 'uint16_t cw = 0xffff; memcpy(f->mem + 0x8100, &cw, 2);',
  END + 'CHECK_EQ(%s, 0x1f7f);' % w(0))
T('x87_fxsave', 'fld1; fxsave64 [0x408000]; fxrstor64 [0x408000]; fldz; fxsave [0x408200]; int3', FP,
  END + 'CHECK_EQ(%s, 0x37f);\nCHECK_EQ(%s, 7u << 11);\nCHECK_EQ(f->mem[0x8004], 0x80);\nCHECK_EQ(%s, 0x1e8);\nCHECK_EQ(%s, FLAT_BASE);\nCHECK_EQ(%s, 0x1f80);\nCHECK_EQ(%s, 0x8000000000000000ull);\nCHECK_EQ(%s, 0x3fff);\nCHECK_EQ(f->mem[0x8204], 0xc0);\nCHECK_EQ(%s, (uint32_t)FLAT_BASE + 20);' % (w(0), w(2), w(6), q(8), d(24), q(32), w(40), d(0x208)))
T('x87_fxsave_misaligned', 'fxsave [0x408008]; int3', FP, 'CHECK_EQ(f->res.vector, 13);\nCHECK_EQ(f->st.rip, FLAT_BASE);')
T('x87_mmx_aliasing', 'fld1; movq mm1, qword ptr [0x408100]; paddb mm1, mm1; movq qword ptr [0x408000], mm1; int3',
  FP + 'uint64_t v = 0x0102030405060708ull; memcpy(f->mem + 0x8100, &v, 8);',
  END + 'CHECK_EQ(%s, 0x020406080a0c0e10ull);\nCHECK_EQ(%s, 0);\nCHECK_EQ(f->st.fx.ftw, 0xff);\nCHECK_EQ(f->st.fx.st[1][8], 0xff);\nCHECK_EQ(f->st.fx.st[1][9], 0xff);\n/* fld1 went to physical 7, which stays ST7 after TOP=0 */\nCHECK_EQ(f->st.fx.st[7][9], 0x3f);' % (q(0), TOP))
T('x87_emms', 'movq mm0, qword ptr [0x408100]; emms; int3', FP, END + 'CHECK_EQ(f->st.fx.ftw, 0);')
T('x87_undefined', '.byte 0xd9, 0xd1; int3', FP, 'CHECK_EQ(f->res.vector, 6);')
