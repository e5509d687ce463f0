/* qformats.h -- the core's view of the quantization formats
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_QFORMATS_H
#define GLLMK_QFORMATS_H

#include "core/internal.h"
#include <gllmk/quant.h>

#define GLLMK_QF_EXTERNAL (-1)   /* AWQ4, GPTQ4, SqueezeLLM: no GGUF kernel index */

/* the fam column of qformats.def */
enum { GLLMK_QFAM_NONE, GLLMK_QFAM_KQ, GLLMK_QFAM_IQ };

typedef struct gllmk__qinfo {
  gllmk_qtype type;
  const char *name;
  size_t block_size, block_bytes;
  int qf;                        /* GLLMK_QF_<fmt>, or GLLMK_QF_EXTERNAL */
  int fam;                       /* GLLMK_QFAM_* */
} gllmk__qinfo;

extern GLLMK_HIDDEN const gllmk__qinfo gllmk__qinfos[];
extern GLLMK_HIDDEN const size_t gllmk__nqinfos;
/* NULL for a value that is not a gllmk_qtype */
GLLMK_HIDDEN const gllmk__qinfo *gllmk__qinfo_of(gllmk_qtype t);

/* the families kquant_matmul and iq_matmul accept (qformats.def's fam):
 * the legacy and K GGUF formats, and the IQ formats with MXFP4 */
GLLMK_HIDDEN int gllmk__qtype_is_kquant(gllmk_qtype t);
GLLMK_HIDDEN int gllmk__qtype_is_iq(gllmk_qtype t);

/* qmatmul.c: validate and describe an AWQ4 / GPTQ4 matrix [n x k] (weights
 * only; activations are filled in by the caller) */
GLLMK_HIDDEN gllmk_status gllmk__awq_setup(struct gllmk__qmv *p, const uint8_t *packed,
                                           const uint8_t *zeros, const gllmk_f16 *scales,
                                           size_t n, size_t k);
GLLMK_HIDDEN gllmk_status gllmk__gptq_setup(struct gllmk__qmv *p, const uint8_t *packed,
                                            const int32_t *g_idx, const gllmk_f16 *scales,
                                            size_t n_groups, size_t n, size_t k);

#endif /* GLLMK_QFORMATS_H */
