/* fatbin.S -- the kernels' fatbin (cuda/kernels.fatbin, built by nvcc), embedded
 * SPDX-License-Identifier: MIT
 */
        .section .rodata.gllmk_fatbin,"a"
        .balign 64
        .globl  gllmk__cuda_fatbin
        .hidden gllmk__cuda_fatbin
        .type   gllmk__cuda_fatbin, %object
gllmk__cuda_fatbin:
        .incbin "kernels.fatbin"
.Lgllmk_fatbin_end:
        .size   gllmk__cuda_fatbin, .Lgllmk_fatbin_end - gllmk__cuda_fatbin
        .balign 8
        .globl  gllmk__cuda_fatbin_size
        .hidden gllmk__cuda_fatbin_size
        .type   gllmk__cuda_fatbin_size, %object
gllmk__cuda_fatbin_size:
        .quad   .Lgllmk_fatbin_end - gllmk__cuda_fatbin
        .size   gllmk__cuda_fatbin_size, 8
        .section .note.GNU-stack,"",%progbits
