/* test_kernels_emu.cc -- the test driver's test kernels compiled for the execution harness
 * SPDX-License-Identifier: MIT
 */
#include "test_kernels.cu"
