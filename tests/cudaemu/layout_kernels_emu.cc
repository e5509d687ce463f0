/* layout_kernels_emu.cc -- the layout test's kernels compiled for the execution harness
 * SPDX-License-Identifier: MIT
 */
#include "layout_kernels.cu"
