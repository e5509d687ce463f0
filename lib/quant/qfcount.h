/* qfcount.h -- the number of rows of qformats.def, as a constant
 * (GLLMK_NQFMT) usable in C, C++ and CUDA device code.  The CUDA backend
 * numbers its formats by qformats.def's rows and puts SqueezeLLM right
 * after them, at index GLLMK_NQFMT: deriving it from the rows keeps that
 * index right when a row is added.
 * SPDX-License-Identifier: MIT
 */
#ifndef GLLMK_QFCOUNT_H
#define GLLMK_QFCOUNT_H

enum {
  GLLMK_NQFMT = 0
#define GLLMK_QFMT(fmt, QT, name, bs, bb, kind, dot, ...) + 1
#include "qformats.def"
#undef GLLMK_QFMT
};

#endif /* GLLMK_QFCOUNT_H */
