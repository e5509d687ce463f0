/* fiber_aarch64.S -- the fiber context switch of the execution harness (AArch64 AAPCS64)
 * SPDX-License-Identifier: MIT
 *
 * void gk_emu_fiber_switch(void **save_sp, void *new_sp)
 *   saves the callee-saved registers x19-x28, x29 (fp), x30 (lr) and d8-d15
 *   in a 160-byte frame on the current stack, stores sp in *save_sp, loads
 *   new_sp, restores the same frame from there and returns through x30.
 *
 * gk_emu_fiber_start: where a new fiber's first switch returns to.  The
 *   harness prepares the frame with x19 = argument, x20 = entry function,
 *   x29 = 0, x30 = gk_emu_fiber_start; the entry function never returns.
 */
#if defined(__aarch64__)
	.text
	.p2align 4
	.globl	gk_emu_fiber_switch
	.hidden	gk_emu_fiber_switch
	.type	gk_emu_fiber_switch, %function
gk_emu_fiber_switch:
#if defined(__ARM_FEATURE_BTI_DEFAULT)
	hint	#34			/* bti c */
#endif
	sub	sp, sp, #160
	stp	x19, x20, [sp, #0]
	stp	x21, x22, [sp, #16]
	stp	x23, x24, [sp, #32]
	stp	x25, x26, [sp, #48]
	stp	x27, x28, [sp, #64]
	stp	x29, x30, [sp, #80]
	stp	d8, d9, [sp, #96]
	stp	d10, d11, [sp, #112]
	stp	d12, d13, [sp, #128]
	stp	d14, d15, [sp, #144]
	mov	x2, sp
	str	x2, [x0]
	mov	sp, x1
	ldp	x19, x20, [sp, #0]
	ldp	x21, x22, [sp, #16]
	ldp	x23, x24, [sp, #32]
	ldp	x25, x26, [sp, #48]
	ldp	x27, x28, [sp, #64]
	ldp	x29, x30, [sp, #80]
	ldp	d8, d9, [sp, #96]
	ldp	d10, d11, [sp, #112]
	ldp	d12, d13, [sp, #128]
	ldp	d14, d15, [sp, #144]
	add	sp, sp, #160
	ret
	.size	gk_emu_fiber_switch, .-gk_emu_fiber_switch

	.p2align 4
	.globl	gk_emu_fiber_start
	.hidden	gk_emu_fiber_start
	.type	gk_emu_fiber_start, %function
gk_emu_fiber_start:
	.cfi_startproc
	.cfi_undefined x30
#if defined(__ARM_FEATURE_BTI_DEFAULT)
	hint	#36			/* bti j (reached by ret, harmless) */
#endif
	mov	x0, x19
	blr	x20
	brk	#0
	.cfi_endproc
	.size	gk_emu_fiber_start, .-gk_emu_fiber_start
#endif

#if defined(__linux__) && defined(__ELF__)
	.section .note.GNU-stack,"",%progbits
#endif
