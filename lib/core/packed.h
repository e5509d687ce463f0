/* packed.h -- the packed-weight header shared by packed.c and packed_tpl.h
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_CORE_PACKED_H
#define GLLMK_CORE_PACKED_H

#include "internal.h"

/* the element types of a packed weight (the ops that take it) */
enum { GLLMK__PW_F32 = 1, GLLMK__PW_F16 = 2, GLLMK__PW_BF16 = 3 };

/* The panels of pw for an op of element type dtype on B [k x n] with the
 * kernel table kt, once pw's header is checked: GLLMK_E_INVAL when pw is NULL,
 * its header is corrupted or foreign, or its element type or shape is not
 * (dtype, n, k); GLLMK_E_UNSUPPORTED when it was packed for another ISA. */
GLLMK_HIDDEN gllmk_status gllmk__pw_panels(const gllmk_packed_weight *pw, int dtype, size_t n,
                                           size_t k, const struct gllmk_kernels *kt,
                                           const float **panels);

#endif /* GLLMK_CORE_PACKED_H */
