# SSE/SSE2/MMX programs for gen.py (python3 gen.py fp_sse_tests.py > ../test_sse_flat.c).
# Expected values are worked out from the SDM and IEEE 754, not taken from a
# host run. Data lives at 0x408000 (in: 0x408100..).
FP = 'f->st.fx.fcw = 0x37f; f->st.fx.mxcsr = 0x1f80;\n'
END = 'CHECK_EQ(f->rc, 0);\nCHECK_EQ(f->res.vector, 3);\n'
def q(off): return '({ uint64_t _v; memcpy(&_v, f->mem + 0x8000 + %d, 8); _v; })' % off
def d(off): return '({ uint32_t _v; memcpy(&_v, f->mem + 0x8000 + %d, 4); _v; })' % off
def put(off, ctype, *vals):
    return '{ %s _v[] = { %s }; memcpy(f->mem + 0x8000 + %d, _v, sizeof(_v)); }\n' % (ctype, ', '.join(vals), off)
X = lambda n, k: 'f->st.fx.xmm[%d]' % n
def xq(n, k): return '({ uint64_t _v; memcpy(&_v, f->st.fx.xmm[%d] + 8 * %d, 8); _v; })' % (n, k)
def xd(n, k): return '({ uint32_t _v; memcpy(&_v, f->st.fx.xmm[%d] + 4 * %d, 4); _v; })' % (n, k)
MX = 'f->st.fx.mxcsr'

T('sse_addps', 'movaps xmm0, [0x408100]; addps xmm0, [0x408110]; int3',
  FP + put(0x100, 'float', '1.0f', '2.0f', '-1.0f', '0.25f') + put(0x110, 'float', '0.5f', '0.25f', '1.0f', '2.0f'),
  END + 'CHECK_EQ(%s, 0x3fc00000); /* 1.5 */\nCHECK_EQ(%s, 0x40100000); /* 2.25 */\nCHECK_EQ(%s, 0); /* +0 */\nCHECK_EQ(%s, 0x40100000); /* 2.25 */\nCHECK_EQ(%s & 0x3f, 0);' % (xd(0,0), xd(0,1), xd(0,2), xd(0,3), MX))
T('sse_divsd_third', 'movsd xmm1, [0x408100]; divsd xmm1, [0x408108]; int3',
  FP + put(0x100, 'double', '1.0', '3.0'),
  END + 'CHECK_EQ(%s, 0x3fd5555555555555ull);\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s & 0x3f, 0x20); /* PE */' % (xq(1,0), xq(1,1), MX))
# rounding control: 1/3 rounded up ends in ...56
T('sse_divsd_round_up', 'ldmxcsr [0x408110]; movsd xmm1, [0x408100]; divsd xmm1, [0x408108]; int3',
  FP + put(0x100, 'double', '1.0', '3.0') + put(0x110, 'uint32_t', '0x5f80'),
  END + 'CHECK_EQ(%s, 0x3fd5555555555556ull);' % xq(1,0))
T('sse_divss_zero_masked', 'movss xmm0, [0x408100]; xorps xmm1, xmm1; divss xmm0, xmm1; int3',
  FP + put(0x100, 'float', '1.0f'),
  END + 'CHECK_EQ(%s, 0x7f800000);\nCHECK_EQ(%s & 0x3f, 0x04); /* ZE */' % (xd(0,0), MX))
T('sse_divss_zero_unmasked', 'ldmxcsr [0x408110]; movss xmm0, [0x408100]; xorps xmm1, xmm1; divss xmm0, xmm1; int3',
  FP + put(0x100, 'float', '1.0f') + put(0x110, 'uint32_t', '0x1d80'),
  'CHECK_EQ(f->rc, 0);\nCHECK_EQ(f->res.vector, 19); /* #XM */\nCHECK_EQ(f->st.rip, FLAT_BASE + 20);\nCHECK_EQ(%s, 0x3f800000); /* unchanged */\nCHECK_EQ(%s & 0x3f, 0x04);' % (xd(0,0), MX))
T('sse_sqrtsd_neg', 'movsd xmm0, [0x408100]; sqrtsd xmm0, xmm0; int3',
  FP + put(0x100, 'double', '-1.0'),
  END + 'CHECK_EQ(%s, 0xfff8000000000000ull);\nCHECK_EQ(%s & 0x3f, 0x01);' % (xq(0,0), MX))
# MINSD with a NaN returns the second (source) operand
T('sse_minsd_nan', 'movsd xmm0, [0x408100]; movsd xmm1, [0x408108]; minsd xmm0, xmm1; movsd xmm2, [0x408108]; minsd xmm2, [0x408100]; int3',
  FP + put(0x100, 'uint64_t', '0x7ff8000000000001ull', '0x4000000000000000ull'),
  END + 'CHECK_EQ(%s, 0x4000000000000000ull);\nCHECK_EQ(%s, 0x7ff8000000000001ull);' % (xq(0,0), xq(2,0)))
# conversions: integer indefinite, rounding to nearest even, truncation
T('sse_cvt_indefinite', 'movsd xmm0, [0x408100]; cvttsd2si eax, xmm0; cvttsd2si rbx, xmm0; movsd xmm1, [0x408108]; cvtsd2si ecx, xmm1; int3',
  FP + put(0x100, 'double', '1e10', '__builtin_nan("")'),
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0x80000000u);\nCHECK_EQ(f->st.regs[GPR_RBX], 10000000000ull);\nCHECK_EQ(f->st.regs[GPR_RCX], 0x80000000u);\nCHECK_EQ(%s & 0x3f, 0x01);' % MX)
T('sse_cvt_round', 'movsd xmm0, [0x408100]; cvtsd2si eax, xmm0; cvttsd2si ebx, xmm0; movsd xmm1, [0x408108]; cvtsd2si rcx, xmm1; cvtss2si edx, [0x408110]; int3',
  FP + put(0x100, 'double', '2.5', '-3.5') + put(0x110, 'float', '-0.5f'),
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 2);\nCHECK_EQ(f->st.regs[GPR_RBX], 2);\nCHECK_EQ(f->st.regs[GPR_RCX], (uint64_t)-4);\nCHECK_EQ(f->st.regs[GPR_RDX], 0);')
T('sse_cvtsi2sd', 'mov rax, 0x7fffffffffffffff; cvtsi2sd xmm0, rax; mov eax, -7; cvtsi2ss xmm1, eax; int3', FP,
  END + 'CHECK_EQ(%s, 0x43e0000000000000ull); /* 2^63 */\nCHECK_EQ(%s, 0xc0e00000); /* -7.0f */\nCHECK_EQ(%s & 0x3f, 0x20);' % (xq(0,0), xd(1,0), MX))
T('sse_cvtps2pd', 'cvtps2pd xmm0, [0x408100]; cvtpd2ps xmm1, xmm0; cvtdq2ps xmm2, [0x408110]; int3',
  FP + put(0x100, 'float', '1.5f', '-2.0f') + put(0x110, 'int32_t', '1', '-2', '16777217', '0'),
  END + 'CHECK_EQ(%s, 0x3ff8000000000000ull);\nCHECK_EQ(%s, 0xc000000000000000ull);\nCHECK_EQ(%s, 0x3fc00000);\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s, 0x4b800000); /* 16777217 -> 2^24 */' % (xq(0,0), xq(0,1), xd(1,0), xq(1,1), xd(2,2)))
# compares
T('sse_comisd', 'movsd xmm0, [0x408100]; comisd xmm0, [0x408108]; setb al; setz bl; setp cl; ucomisd xmm0, [0x408110]; setp dl; int3',
  FP + put(0x100, 'double', '1.0', '2.0', '__builtin_nan("")'),
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0xff, 1);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xff, 0);\nCHECK_EQ(f->st.regs[GPR_RCX] & 0xff, 0);\nCHECK_EQ(f->st.regs[GPR_RDX] & 0xff, 1);\nCHECK_EQ(%s & 0x3f, 0); /* UCOMISD: QNaN is quiet */' % MX)
T('sse_comisd_nan', 'movsd xmm0, [0x408100]; comisd xmm0, xmm0; int3',
  FP + put(0x100, 'double', '__builtin_nan("")'),
  END + 'CHECK(RF(RFLAGS_ZF) && RF(RFLAGS_PF) && RF(RFLAGS_CF));\nCHECK_EQ(%s & 0x3f, 0x01); /* COMISD: QNaN signals */' % MX)
T('sse_cmpps', 'movaps xmm0, [0x408100]; cmpltps xmm0, [0x408110]; movaps xmm1, [0x408100]; cmpunordps xmm1, [0x408110]; int3',
  FP + put(0x100, 'float', '1.0f', '2.0f', '__builtin_nanf("")', '-0.0f') + put(0x110, 'float', '2.0f', '1.0f', '1.0f', '0.0f'),
  END + 'CHECK_EQ(%s, 0xffffffffu);\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s, 0); /* -0 < +0 is false */\nCHECK_EQ(%s, 0xffffffffull); /* lane 2 unordered, lane 3 not */\nCHECK_EQ(%s, 0);' % (xd(0,0), xd(0,1), xd(0,2), xd(0,3), xq(1,1), xq(1,0)))
# alignment: MOVAPS/ADDPS with m128 need 16 bytes, MOVUPS does not
T('sse_movaps_misaligned', 'movups xmm0, [0x408104]; movaps xmm1, [0x408104]; int3', FP,
  'CHECK_EQ(f->res.vector, 13);\nCHECK_EQ(f->st.rip, FLAT_BASE + 8);')
T('sse_addps_misaligned', 'addps xmm1, [0x408104]; int3', FP, 'CHECK_EQ(f->res.vector, 13);')
T('sse_addss_unaligned', 'addss xmm1, [0x408104]; int3', FP, END)
# the strlen idiom of glibc's SSE2 string functions
T('sse_strlen', 'mov rdi, 0x408100; pxor xmm0, xmm0; L: movdqu xmm1, [rdi]; pcmpeqb xmm1, xmm0; pmovmskb eax, xmm1; add rdi, 16; test eax, eax; jz L; bsf eax, eax; lea rax, [rdi + rax - 16 - 0x408100]; int3',
  FP + 'memcpy(f->mem + 0x8100, "the quick brown fox jumps", 26);',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 25);')
T('sse_int_ops', 'movdqa xmm0, [0x408100]; movdqa xmm1, xmm0; paddusb xmm1, [0x408110]; movdqa xmm2, xmm0; psubsw xmm2, [0x408110]; movdqa xmm3, xmm0; pmaddwd xmm3, [0x408110]; movdqa xmm4, xmm0; psadbw xmm4, [0x408110]; int3',
  FP + put(0x100, 'uint16_t', '0xfff0', '0x8000', '3', '4', '5', '6', '7', '0x7fff') + put(0x110, 'uint16_t', '0x0020', '1', '2', '3', '1', '1', '1', '0xffff'),
  END + '/* paddusb: f0+20 -> ff, ff+00 -> ff, 00+01 -> 01, 80+00 -> 80 */\nCHECK_EQ(%s & 0xffffffff, 0x8001ffff);\n/* psubsw: 0x8000 - 1 saturates at 0x8000; 0x7fff - (-1) at 0x7fff */\nCHECK_EQ(%s >> 16 & 0xffff, 0x8000);\nCHECK_EQ(%s >> 48, 0x7fff);\n/* pmaddwd: (-16)*32 + (-32768)*1 = -33280 */\nCHECK_EQ(%s & 0xffffffff, (uint32_t)-33280);' % (xq(1,0), xq(2,0), xq(2,1), xq(3,0)))
T('sse_pack_unpack', 'movdqa xmm0, [0x408100]; packuswb xmm0, xmm0; movdqa xmm1, [0x408100]; packsswb xmm1, xmm1; movq xmm2, [0x408110]; punpcklbw xmm2, xmm2; int3',
  FP + put(0x100, 'int16_t', '-5', '300', '128', '127', '0', '1', '-200', '255') + put(0x110, 'uint8_t', '1', '2', '3', '4', '5', '6', '7', '8'),
  END + '/* packuswb: -5->0, 300->ff, 128->80, 127->7f, 0, 1, -200->0, 255->ff */\nCHECK_EQ(%s, 0xff0001007f80ff00ull);\nCHECK_EQ(%s, 0xff0001007f80ff00ull);\n/* packsswb: -5->fb, 300->7f, 128->7f, 127->7f, 0, 1, -200->80, 255->7f */\nCHECK_EQ(%s, 0x7f8001007f7f7ffbull);\nCHECK_EQ(%s, 0x0404030302020101ull);\nCHECK_EQ(%s, 0x0808070706060505ull);' % (xq(0,0), xq(0,1), xq(1,0), xq(2,0), xq(2,1)))
T('sse_shifts', 'movdqa xmm0, [0x408100]; movdqa xmm1, xmm0; psrlw xmm1, 4; movdqa xmm2, xmm0; psraw xmm2, 20; movdqa xmm3, xmm0; psllq xmm3, 64; movdqa xmm4, xmm0; psrldq xmm4, 3; movdqa xmm5, xmm0; pslldq xmm5, 15; movdqa xmm6, xmm0; psrld xmm6, [0x408110]; int3',
  FP + put(0x100, 'uint64_t', '0x8001800180018001ull', '0x1122334455667788ull') + put(0x110, 'uint64_t', '1', '0xffffffffffffffffull'),
  END + 'CHECK_EQ(%s, 0x0800080008000800ull);\nCHECK_EQ(%s, 0xffffffffffffffffull);\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s, 0x6677888001800180ull);\nCHECK_EQ(%s, 0x0000001122334455ull);\nCHECK_EQ(%s, 0x0100000000000000ull);\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s, 0x4000c0004000c000ull);' % (xq(1,0), xq(2,0), xq(3,0), xq(3,1), xq(4,0), xq(4,1), xq(5,1), xq(5,0), xq(6,0)))
T('sse_shuffles', 'movdqa xmm0, [0x408100]; pshufd xmm1, xmm0, 0x1b; movaps xmm2, xmm0; shufps xmm2, xmm0, 0x4e; pshuflw xmm3, xmm0, 0x00; pextrw eax, xmm0, 5; mov ebx, 0xbeef; pinsrw xmm0, ebx, 7; movmskps ecx, xmm0; int3',
  FP + put(0x100, 'uint32_t', '0x00010000', '0x80020001', '0x00030002', '0x00040003'),
  END + 'CHECK_EQ(%s, 0x0003000200040003ull);\nCHECK_EQ(%s, 0x0001000080020001ull);\nCHECK_EQ(%s, 0x0004000300030002ull);\nCHECK_EQ(%s, 0x0000000000000000ull);\nCHECK_EQ(f->st.regs[GPR_RAX], 0x0003);\nCHECK_EQ(%s, 0xbeef0003ull);\nCHECK_EQ(f->st.regs[GPR_RCX], 0xa);' % (xq(1,0), xq(1,1), xq(2,0), xq(3,0), xd(0,3)))
T('sse_moves', 'movsd xmm0, [0x408100]; movhps xmm0, [0x408108]; movlps [0x408000], xmm0; movhpd [0x408008], xmm0; movq xmm1, xmm0; movd ecx, xmm0; movq rdx, xmm0; mov eax, -1; movd xmm2, eax; movhlps xmm3, xmm0; movlhps xmm3, xmm0; movss xmm4, [0x408100]; movss xmm4, xmm2; int3',
  FP + put(0x100, 'uint64_t', '0x1111111122222222ull', '0x3333333344444444ull'),
  END + 'CHECK_EQ(%s, 0x1111111122222222ull);\nCHECK_EQ(%s, 0x3333333344444444ull);\nCHECK_EQ(%s, 0);\nCHECK_EQ(f->st.regs[GPR_RCX], 0x22222222);\nCHECK_EQ(f->st.regs[GPR_RDX], 0x1111111122222222ull);\nCHECK_EQ(%s, 0xffffffffull);\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s, 0x3333333344444444ull);\nCHECK_EQ(%s, 0x1111111122222222ull);\nCHECK_EQ(%s, 0xffffffffull); /* MOVSS load zeroed the rest, reg-reg merges */' % (q(0), q(8), xq(1,1), xq(2,0), xq(2,1), xq(3,0), xq(3,1), xq(4,0)))
# DAZ/FTZ: tiny * tiny flushes to +0 with FTZ, DAZ treats a denormal input as 0
T('sse_ftz_daz', 'ldmxcsr [0x408110]; movss xmm0, [0x408100]; mulss xmm0, xmm0; stmxcsr [0x408000]; ldmxcsr [0x408114]; movss xmm1, [0x408104]; addss xmm1, xmm1; int3',
  FP + put(0x100, 'uint32_t', '0x1f800000', '0x00000001') + put(0x110, 'uint32_t', '0x9f80', '0x1fc0'),
  END + 'CHECK_EQ(%s, 0);\nCHECK_EQ(%s & 0x3f, 0x30); /* UE|PE */\nCHECK_EQ(%s, 0);\nCHECK_EQ(%s & 0x3f, 0); /* DAZ: no DE */' % (xd(0,0), d(0), xd(1,0), MX))
T('sse_ldmxcsr_reserved', 'ldmxcsr [0x408100]; int3', FP + put(0x100, 'uint32_t', '0x10000'),
  'CHECK_EQ(f->res.vector, 13);')
T('sse_mmx_ops', 'movq mm0, [0x408100]; movq mm1, mm0; pcmpeqb mm1, [0x408108]; pshufw mm2, mm0, 0x1b; pmovmskb eax, mm1; movd ebx, mm2; movq2dq xmm3, mm0; movq [0x408000], mm1; emms; int3',
  FP + put(0x100, 'uint64_t', '0x0004000300020001ull', '0x0004ff0300020001ull'),
  END + 'CHECK_EQ(%s, 0xffff00ffffffffffull);\nCHECK_EQ(f->st.regs[GPR_RAX], 0xdf);\nCHECK_EQ(f->st.regs[GPR_RBX], 0x00030004);\nCHECK_EQ(%s, 0x0004000300020001ull);\nCHECK_EQ(f->st.fx.ftw, 0);' % (q(0), xq(3,0)))
T('sse_fxsave_xmm', 'movdqa xmm15, [0x408300]; fxsave64 [0x408000]; pxor xmm15, xmm15; fxrstor64 [0x408000]; int3',
  FP + put(0x300, 'uint64_t', '0x0123456789abcdefull', '0xfedcba9876543210ull'),
  END + 'CHECK_EQ(%s, 0x0123456789abcdefull);\nCHECK_EQ(%s, 0xfedcba9876543210ull);\nCHECK_EQ(%s, 0x0123456789abcdefull);\nCHECK_EQ(%s, 0xffff);' % (q(160 + 15 * 16), q(168 + 15 * 16), xq(15, 0), d(28)))
T('sse_maskmovdqu', 'mov rdi, 0x408000; movdqa xmm0, [0x408100]; movdqa xmm1, [0x408110]; maskmovdqu xmm0, xmm1; int3',
  FP + put(0x100, 'uint64_t', '0x1122334455667788ull', '0x99aabbccddeeff00ull') + put(0x110, 'uint64_t', '0x80000000000000ffull', '0x0080000000000000ull'),
  END + 'CHECK_EQ(%s, 0x1100000000000088ull);\nCHECK_EQ(%s, 0x00aa000000000000ull);' % (q(0), q(8)))
