/* fiber_x86_64.S -- the fiber context switch of the execution harness (x86-64 System V)
 * SPDX-License-Identifier: MIT
 *
 * void gk_emu_fiber_switch(void **save_sp, void *new_sp)
 *   pushes the callee-saved registers (rbp rbx r12-r15) on the current stack,
 *   stores rsp in *save_sp, loads new_sp and pops the same six registers
 *   from there; ret then resumes the other context.  14 instructions.  The
 *   x87 control word and MXCSR are not switched: kernels do not change them.
 *
 * gk_emu_fiber_start: where a new fiber's first switch returns to.  The
 *   harness prepares its stack so that r12 = argument, r13 = entry function
 *   and rsp is 16-byte aligned here; the entry function never returns.
 */
#if defined(__x86_64__)
	.text
	.p2align 4
	.globl	gk_emu_fiber_switch
	.hidden	gk_emu_fiber_switch
	.type	gk_emu_fiber_switch, @function
gk_emu_fiber_switch:
#if defined(__CET__)
	endbr64
#endif
	pushq	%rbp
	pushq	%rbx
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, (%rdi)
	movq	%rsi, %rsp
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%rbx
	popq	%rbp
	ret
	.size	gk_emu_fiber_switch, .-gk_emu_fiber_switch

	.p2align 4
	.globl	gk_emu_fiber_start
	.hidden	gk_emu_fiber_start
	.type	gk_emu_fiber_start, @function
gk_emu_fiber_start:
	.cfi_startproc
	.cfi_undefined rip
	xorl	%ebp, %ebp
	movq	%r12, %rdi
	call	*%r13
	ud2
	.cfi_endproc
	.size	gk_emu_fiber_start, .-gk_emu_fiber_start
#endif

#if defined(__linux__) && defined(__ELF__)
	.section .note.GNU-stack,"",@progbits
#endif
