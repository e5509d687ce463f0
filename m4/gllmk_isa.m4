# gllmk_isa.m4 -- probe one instruction set the compiler can build  -*- autoconf -*-
# SPDX-License-Identifier: MIT
#
# GLLMK_CHECK_ISA(NAME, token, FLAGS, ENABLED-ON-HOST, PROLOGUE, BODY)
#
# Offers --disable-TOKEN and the precious variable GLLMK_NAME_CFLAGS (default
# FLAGS).  When the host architecture has the ISA and it is not disabled, links
# a program that uses representative intrinsics with those flags placed before
# the user's CFLAGS (automake's order for per-target flags).  On success:
# AC_SUBST(GLLMK_NAME_CFLAGS), AC_DEFINE(GLLMK_HAVE_NAME), and the summary line.
# AM_CONDITIONAL(GLLMK_HAVE_NAME) is set on every path.
AC_DEFUN([GLLMK_CHECK_ISA], [
  AC_ARG_ENABLE([$2],
    [AS_HELP_STRING([--disable-$2], [do not build the $2 kernels])],
    [], [AS_TR_SH([enable_$2])=yes])
  AC_ARG_VAR([GLLMK_$1_CFLAGS], [compiler flags for the $2 kernels (default: $3)])
  AS_IF([test "x$GLLMK_$1_CFLAGS" = x], [GLLMK_$1_CFLAGS="$3"])
  gllmk_have_isa=no
  AS_IF([test "x$4" = xyes && test "x$AS_TR_SH([enable_$2])" != xno], [
    AC_CACHE_CHECK([whether $CC builds $2 code with $GLLMK_$1_CFLAGS],
      [gllmk_cv_isa_$2], [
      gllmk_save_CFLAGS=$CFLAGS
      CFLAGS="$GLLMK_$1_CFLAGS $CFLAGS"
      AC_LINK_IFELSE([AC_LANG_PROGRAM([$5], [$6])],
        [gllmk_cv_isa_$2=yes], [gllmk_cv_isa_$2=no])
      CFLAGS=$gllmk_save_CFLAGS])
    gllmk_have_isa=$gllmk_cv_isa_$2])
  AS_IF([test "x$gllmk_have_isa" = xyes], [
    AC_DEFINE([GLLMK_HAVE_$1], [1], [Build the $2 kernels])
    gllmk_isa_summary="$gllmk_isa_summary $2"])
  AC_SUBST([GLLMK_$1_CFLAGS])
  AM_CONDITIONAL([GLLMK_HAVE_$1], [test "x$gllmk_have_isa" = xyes])
])
