/* kernels.cu -- every kernel of the CUDA backend, as one translation unit
 * SPDX-License-Identifier: MIT
 *
 * nvcc compiles this file once per architecture into one cubin each (a module
 * is one image per architecture); the execution harness compiles it with the
 * host C++ compiler (-DGK_EMU, tests/cudaemu/kernels_emu.cc).  Each included
 * file holds one operator family; cuda/kernels.def lists every kernel.
 */
#include "gk_arch.cuh"
#include "gk_float.cuh"

#include "blas1.cu"
#include "act.cu"
#include "gemv.cu"
#include "gemm.cu"
#include "norm.cu"
#include "rope.cu"
#include "embed.cu"
#include "attention.cu"
#include "l3.cu"
#include "embq.cu"
#include "qmatmul.cu"
#include "fused.cu"
