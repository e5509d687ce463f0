/* kernels_emu.cc -- cuda/kernels.cu compiled for the execution harness (-DGK_EMU)
 * SPDX-License-Identifier: MIT
 */
#include "kernels.cu"
