END = 'CHECK_EQ(f->rc, 0);\nCHECK_EQ(f->res.vector, 3);\n'
T('sum_loop', 'xor eax,eax; mov ecx,100; L: add eax,ecx; dec ecx; jnz L; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 5050);\nCHECK_EQ(f->st.regs[GPR_RCX], 0);\nCHECK_EQ(f->st.rip, FLAT_BASE + 14);\nCHECK_EQ(f->res.insns, 2 + 3 * 100 + 1);')
T('rep_movsb', 'mov rsi, 0x408000; mov rdi, 0x408101; mov ecx, 37; rep movsb; int3',
  'for (int k = 0; k < 64; k++) f->mem[0x8000 + k] = (uint8_t)(k + 1);',
  END + 'CHECK_EQ(f->st.regs[GPR_RCX], 0);\nCHECK_EQ(f->st.regs[GPR_RSI], 0x408000 + 37);\nCHECK_EQ(f->st.regs[GPR_RDI], 0x408101 + 37);\nCHECK(memcmp(f->mem + 0x8101, f->mem + 0x8000, 37) == 0);\nCHECK_EQ(f->mem[0x8101 + 37], 0);')
T('rep_movsb_overlap', 'mov rsi, 0x408000; mov rdi, 0x408001; mov ecx, 16; rep movsb; int3',
  'f->mem[0x8000] = 0xab;',
  END + 'for (int k = 0; k < 17; k++) CHECK_EQ(f->mem[0x8000 + k], 0xab);')
T('rep_stosq_down', 'std; mov rdi, 0x408018; mov ecx, 3; mov rax, 0x1122334455667788; rep stosq; cld; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RDI], 0x408000);\nfor (int k = 0; k < 3; k++) { uint64_t v; memcpy(&v, f->mem + 0x8008 + 8 * k, 8); CHECK_EQ(v, 0x1122334455667788ull); }\nCHECK_EQ(f->mem[0x8000], 0);')
T('repne_scasb_strlen', 'mov rdi, 0x408000; xor eax, eax; mov rcx, -1; repne scasb; not rcx; dec rcx; int3',
  'memcpy(f->mem + 0x8000, "hello, world", 13);',
  END + 'CHECK_EQ(f->st.regs[GPR_RCX], 12);')
T('repe_cmpsb', 'mov rsi, 0x408000; mov rdi, 0x408100; mov ecx, 10; repe cmpsb; int3',
  'memcpy(f->mem + 0x8000, "abcdefghij", 10); memcpy(f->mem + 0x8100, "abcdXfghij", 10);',
  END + 'CHECK_EQ(f->st.regs[GPR_RCX], 5);\nCHECK_EQ(f->st.regs[GPR_RSI], 0x408005);\nCHECK(!RF(RFLAGS_ZF));\nCHECK(!RF(RFLAGS_CF));')
T('div_zero', 'xor ecx, ecx; mov eax, 5; div ecx; int3', '',
  'CHECK_EQ(f->rc, 0);\nCHECK_EQ(f->res.vector, 0);\nCHECK_EQ(f->st.rip, FLAT_BASE + 7);\nCHECK_EQ(f->res.insns, 2);')
T('div_overflow', 'mov edx, 1; xor eax, eax; mov ecx, 1; div ecx; int3', '',
  'CHECK_EQ(f->res.vector, 0);')
T('idiv_neg', 'mov rax, -7; cqo; mov rcx, 2; idiv rcx; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], (uint64_t)-3);\nCHECK_EQ(f->st.regs[GPR_RDX], (uint64_t)-1);')
T('idiv8_min', 'mov ax, -128; mov cl, -1; idiv cl; int3', '', 'CHECK_EQ(f->res.vector, 0);')
T('ud2', 'nop; ud2; int3', '', 'CHECK_EQ(f->res.vector, 6);\nCHECK_EQ(f->st.rip, FLAT_BASE + 1);')
T('undefined_opcode', '.byte 0x0f, 0xff; int3', '', 'CHECK_EQ(f->res.vector, 6);\nCHECK_EQ(f->st.rip, FLAT_BASE);')
T('invalid_in_64', '.byte 0x06', '', 'CHECK_EQ(f->res.vector, 6);')
T('add_flags', 'mov al, 0x7f; add al, 1; pushfq; pop rbx; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0xff, 0x80);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0x8d5, RFLAGS_OF | RFLAGS_SF | RFLAGS_AF);')
T('sub_flags', 'xor eax, eax; sub eax, 1; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0xffffffffull);\nCHECK_EQ(f->st.rflags & 0x8d5, RFLAGS_CF | RFLAGS_SF | RFLAGS_AF | RFLAGS_PF);')
T('adc_sbb_chain', 'mov rax, -1; mov rdx, 0; add rax, 1; adc rdx, 0; mov rcx, 0; sub rcx, 1; sbb rbx, rbx; int3', 'f->st.regs[GPR_RBX] = 77;',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0);\nCHECK_EQ(f->st.regs[GPR_RDX], 1);\nCHECK_EQ(f->st.regs[GPR_RBX], (uint64_t)-1);')
T('upper_half', 'mov rax, -1; mov eax, 1; mov rbx, -1; add ebx, 0; mov rcx, -1; mov cx, 2; mov rdx, -1; mov dl, 3; mov dh, 4; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 1);\nCHECK_EQ(f->st.regs[GPR_RBX], 0xffffffffull);\nCHECK_EQ(f->st.regs[GPR_RCX], 0xffffffffffff0002ull);\nCHECK_EQ(f->st.regs[GPR_RDX], 0xffffffffffff0403ull);')
T('read_fault', 'mov rax, [0x1000]; int3', '',
  'CHECK_EQ(f->res.vector, 14);\nCHECK_EQ(f->res.error_code, 4);\nCHECK_EQ(f->st.cr2, 0x1000);\nCHECK_EQ(f->st.rip, FLAT_BASE);')
T('write_fault', 'mov rbx, 0x410000; mov byte ptr [rbx + 2], 1; int3', '',
  'CHECK_EQ(f->res.vector, 14);\nCHECK_EQ(f->res.error_code, 6);\nCHECK_EQ(f->st.cr2, 0x410002);')
T('straddle_fault', 'mov rbx, 0x40fffc; mov qword ptr [rbx], 1; int3', 'f->mem[0xfffc] = 0x55;',
  'CHECK_EQ(f->res.vector, 14);\nCHECK_EQ(f->st.cr2, 0x410000);\nCHECK_EQ(f->mem[0xfffc], 0x55);')
T('noncanonical_gp', 'mov rax, 0x8000000000000000; mov rbx, [rax]; int3', '',
  'CHECK_EQ(f->res.vector, 13);\nCHECK_EQ(f->res.error_code, 0);')
T('mul64', 'mov rax, 0x100000000; mul rax; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0);\nCHECK_EQ(f->st.regs[GPR_RDX], 1);\nCHECK(RF(RFLAGS_CF) && RF(RFLAGS_OF));')
T('imul_forms', 'mov rcx, -3; imul rax, rcx, 7; mov ebx, 0x10000; imul ebx, ebx; mov dx, 0x100; imul dx, dx, 0x100; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], (uint64_t)-21);\nCHECK_EQ(f->st.regs[GPR_RBX], 0);\nCHECK_EQ(f->st.regs[GPR_RDX] & 0xffff, 0);\nCHECK(RF(RFLAGS_CF) && RF(RFLAGS_OF));')
T('shifts', 'mov eax, 0x80000001; shl eax, 1; setc bl; mov ecx, 0x80000000; sar ecx, 31; mov edx, 0x81; ror dl, 1; setc bh; mov esi, 1; shr esi, 1; setz ah; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0xffffffff, 0x0100 | 2);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0101);\nCHECK_EQ(f->st.regs[GPR_RCX], 0xffffffffull);\nCHECK_EQ(f->st.regs[GPR_RDX] & 0xff, 0xc0);')
T('rcl_rcr', 'stc; mov al, 0x80; rcl al, 1; setc bl; stc; mov dl, 1; rcr dl, 1; setc bh; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX] & 0xff, 1);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0101);\nCHECK_EQ(f->st.regs[GPR_RDX] & 0xff, 0x80);')
T('shld_shrd', 'mov eax, 0x12345678; mov ebx, 0x9abcdef0; shld eax, ebx, 8; mov ecx, 4; mov edx, 0x12345678; shrd edx, ebx, cl; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0x345678 * 0x100 + 0x9a);\nCHECK_EQ(f->st.regs[GPR_RDX], 0x01234567);')
T('bitops', 'mov eax, 0x10; bsf ecx, eax; bsr edx, eax; mov esi, 77; xor edi, edi; bsf esi, edi; setz bl; mov rdi, 0x408000; mov rax, 100; bts [rdi], rax; bt qword ptr [rdi + 8], 36; setc bh; mov r8, -1; btr [rdi + 16], r8; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RCX], 4);\nCHECK_EQ(f->st.regs[GPR_RDX], 4);\nCHECK_EQ(f->st.regs[GPR_RSI], 77);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0101);\nCHECK_EQ(f->mem[0x8000 + 12], 0x10);\nCHECK_EQ(f->mem[0x8000 + 15], 0);')
T('popcnt_bswap', 'mov rax, 0xf0f0; popcnt rbx, rax; mov ecx, 0x11223344; bswap ecx; mov rdx, 0x0102030405060708; bswap rdx; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RBX], 8);\nCHECK_EQ(f->st.regs[GPR_RCX], 0x44332211);\nCHECK_EQ(f->st.regs[GPR_RDX], 0x0807060504030201ull);')
T('cmpxchg_xadd', 'mov rdi, 0x408000; mov qword ptr [rdi], 5; mov eax, 5; mov ecx, 9; lock cmpxchg [rdi], ecx; setz bl; mov eax, 1; lock cmpxchg [rdi], ecx; setz bh; mov edx, 3; lock xadd [rdi], edx; int3', '',
  END + 'CHECK_EQ(f->mem[0x8000], 12);\nCHECK_EQ(f->st.regs[GPR_RAX], 9);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0001);\nCHECK_EQ(f->st.regs[GPR_RDX], 9);')
T('cmpxchg16b', 'mov rdi, 0x408000; xor eax, eax; xor edx, edx; mov ebx, 1; mov ecx, 2; lock cmpxchg16b [rdi]; setz sil; int3', '',
  END + 'CHECK_EQ(f->mem[0x8000], 1);\nCHECK_EQ(f->mem[0x8008], 2);\nCHECK_EQ(f->st.regs[GPR_RSI] & 0xff, 1);')
T('call_ret', 'call fn; add eax, 1; int3; fn: mov eax, 41; ret', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 42);\nCHECK_EQ(f->st.regs[GPR_RSP], FLAT_STACK);')
T('push_pop_mem', 'push 0x1234; pop qword ptr [rsp - 16]; mov rax, [rsp - 16]; push -1; pop bx; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0x1234);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0xffff);\nCHECK_EQ(f->st.regs[GPR_RSP], FLAT_STACK - 6);')
T('enter_leave', 'mov rbp, 0x1111; enter 32, 0; mov rax, rbp; mov rbx, rsp; leave; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], FLAT_STACK - 8);\nCHECK_EQ(f->st.regs[GPR_RBX], FLAT_STACK - 40);\nCHECK_EQ(f->st.regs[GPR_RBP], 0x1111);\nCHECK_EQ(f->st.regs[GPR_RSP], FLAT_STACK);')
T('cmov_setcc', 'mov rax, -1; xor ecx, ecx; cmp ecx, 1; cmovg eax, ecx; setl bl; setb bh; mov edx, 5; cmovl edx, ecx; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0xffffffffull);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0101);\nCHECK_EQ(f->st.regs[GPR_RDX], 0);')
T('movzx_movsx_lea', 'mov eax, 0x80; movsx rbx, al; movzx ecx, al; movsxd rdx, eax; mov esi, -1; movsxd rsi, esi; lea rdi, [rax + rcx*4 + 3]; lea r8d, [rip]; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RBX], (uint64_t)-128);\nCHECK_EQ(f->st.regs[GPR_RCX], 0x80);\nCHECK_EQ(f->st.regs[GPR_RDX], 0x80);\nCHECK_EQ(f->st.regs[GPR_RSI], (uint64_t)-1);\nCHECK_EQ(f->st.regs[GPR_RDI], 0x80 * 5 + 3);\nCHECK_EQ(f->st.regs[GPR_R8], FLAT_BASE + sizeof(code) - 1);')
T('fs_base', 'mov rax, fs:[8]; mov gs:[0], rax; int3',
  'f->st.seg[SEG_FS].base = FLAT_DATA; f->st.seg[SEG_GS].base = FLAT_DATA + 0x100; f->mem[0x8008] = 0x5a;',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0x5a);\nCHECK_EQ(f->mem[0x8100], 0x5a);')
T('privileged_hlt', 'hlt', '', 'CHECK_EQ(f->res.vector, 13);\nCHECK_EQ(f->res.error_code, 0);')
T('privileged_in', 'in al, 0x60', '', 'CHECK_EQ(f->res.vector, 13);')
T('privileged_cli', 'cli', '', 'CHECK_EQ(f->res.vector, 13);')
T('privileged_cr', 'mov rax, cr3', '', 'CHECK_EQ(f->res.vector, 13);')
T('privileged_wrmsr', 'wrmsr', '', 'CHECK_EQ(f->res.vector, 13);')
T('syscall_ud', 'syscall', '', 'CHECK_EQ(f->res.vector, 6);')
T('int_n', 'int 0x80', '', 'CHECK_EQ(f->res.vector, 0x80);\nCHECK_EQ(f->st.rip, FLAT_BASE + 2);')
T('max_insns', 'L: jmp L', '', 'CHECK_EQ(f->rc, 0);\nCHECK_EQ(f->res.vector, -1);\nCHECK_EQ(f->res.insns, 1000);\nCHECK_EQ(f->st.rip, FLAT_BASE);', 1000)
T('cpuid_vendor', 'xor eax, eax; cpuid; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RBX], 0x756e6547);\nCHECK_EQ(f->st.regs[GPR_RDX], 0x49656e69);\nCHECK_EQ(f->st.regs[GPR_RCX], 0x6c65746e);')
T('unimplemented', 'movddup xmm0, xmm0', '', 'CHECK(f->rc < 0);\nCHECK(strstr(err_get(), "unimplemented instruction at RIP 0x400000: bytes f2 0f 12 c0") != NULL);')
T('lahf_sahf_flags', 'mov ah, 0xd5; sahf; lahf; cmc; pushfq; pop rbx; int3', '',
  END + 'CHECK_EQ((f->st.regs[GPR_RAX] >> 8) & 0xff, 0xd7);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xd5, 0xd4);')
T('loop_jrcxz', 'xor eax, eax; mov ecx, 5; L: inc eax; loop L; jrcxz done; mov eax, 99; done: int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 5);')
T('xchg_nop', 'mov eax, 1; mov r8, 2; xchg r8, rax; nop; xchg ax, ax; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 2);\nCHECK_EQ(f->st.regs[GPR_R8], 1);')
T('neg_not', 'mov eax, 5; neg eax; setc bl; mov ecx, 0; neg ecx; setc bh; not rdx; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0xfffffffbull);\nCHECK_EQ(f->st.regs[GPR_RBX] & 0xffff, 0x0001);\nCHECK_EQ(f->st.regs[GPR_RDX], (uint64_t)-1);')
T('popf_user', 'push 0x3202; popfq; pushfq; pop rax; int3', '',
  END + '/* IOPL and IF cannot change at CPL 3 */\nCHECK_EQ(f->st.regs[GPR_RAX] & 0x3200, 0x200);')
T('jmp_indirect', 'lea rax, [rip + tgt]; jmp rax; mov ebx, 1; tgt: mov ecx, 2; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RBX], 0);\nCHECK_EQ(f->st.regs[GPR_RCX], 2);')
T('fetch_off_end', 'mov rax, 0x40fffe; jmp rax', 'f->mem[0xfffe] = 0x48; f->mem[0xffff] = 0xb8;',
  'CHECK_EQ(f->res.vector, 14);\nCHECK_EQ(f->st.cr2, 0x410000);\nCHECK_EQ(f->res.error_code, PFEC_U | PFEC_I);\nCHECK_EQ(f->st.rip, 0x40fffe);')
T('self_modifying', 'xor ebx, ebx; L: mov eax, 1; add ebx, eax; lea rdi, [rip + L]; mov byte ptr [rdi + 1], 2; cmp ebx, 3; jne L; int3', '',
  END + '/* first pass adds 1, then the patched instruction adds 2 */\nCHECK_EQ(f->st.regs[GPR_RBX], 3);\nCHECK_EQ(f->st.regs[GPR_RAX], 2);')
T('byte_regs_high', 'mov eax, 0x1234; mov bl, ah; add ah, al; mov cl, 0x80; sar cl, 7; mov r9b, 5; mov sil, 7; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RBX] & 0xff, 0x12);\nCHECK_EQ(f->st.regs[GPR_RAX] & 0xffff, 0x4634);\nCHECK_EQ(f->st.regs[GPR_RCX] & 0xff, 0xff);\nCHECK_EQ(f->st.regs[GPR_R9] & 0xff, 5);\nCHECK_EQ(f->st.regs[GPR_RSI] & 0xff, 7);')
T('ops16', 'mov eax, 0xffff0001; add ax, 0xffff; setc bl; mov ecx, 0x12345678; xchg cx, ax; movzx edx, cx; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RBX] & 0xff, 1);\nCHECK_EQ(f->st.regs[GPR_RAX], 0xffff5678ull);\nCHECK_EQ(f->st.regs[GPR_RCX], 0x12340000ull);\nCHECK_EQ(f->st.regs[GPR_RDX], 0);')
T('addr32', 'mov rdi, 0x100408000; mov dword ptr [edi], 0x55; mov eax, [edi]; int3', '',
  END + 'CHECK_EQ(f->st.regs[GPR_RAX], 0x55);\nCHECK_EQ(f->mem[0x8000], 0x55);')
T('trap_flag', 'pushfq; or qword ptr [rsp], 0x100; popfq; nop; nop', '',
  'CHECK_EQ(f->res.vector, 1);\n/* the trap comes after the instruction following POPF */\nCHECK_EQ(f->st.rip, FLAT_BASE + sizeof(code) - 1);')
