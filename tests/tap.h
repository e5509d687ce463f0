/* tap.h -- a minimal Test Anything Protocol producer for the gllmk tests
 * SPDX-License-Identifier: MIT
 *
 * plan(n) prints "1..n" up front; without it, done_testing() prints the plan
 * at the end (automake's tap-driver.sh accepts a trailing plan).  ok() prints
 * "ok N - ..." or "not ok N - ...", skip() "ok N # SKIP ...", diag() "# ...".
 * Descriptions must not contain '#'.  All output goes to stdout, flushed per
 * line, so that diagnostics stay next to the point they explain.
 *
 * One translation unit of each program (testutil.c) defines
 * TAP_IMPLEMENTATION before including this header to get the definitions.
 */
#ifndef GLLMK_TESTS_TAP_H
#define GLLMK_TESTS_TAP_H

#include <stdarg.h>

#if defined(__GNUC__)
#  define TAP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define TAP_PRINTF(f, a)
#endif

/** Announce n test points now. */
void plan(int n);
/** One test point; returns cond (as 0/1). */
int ok(int cond, const char *fmt, ...) TAP_PRINTF(2, 3);
/** One skipped test point: "ok N # SKIP reason". */
void skip(const char *fmt, ...) TAP_PRINTF(1, 2);
/** A diagnostic line: "# ...". */
void diag(const char *fmt, ...) TAP_PRINTF(1, 2);
/** Give up: "Bail out! ..." and exit(1). */
void bail_out(const char *fmt, ...) TAP_PRINTF(1, 2);
/** Print the trailing plan if plan() was not called; return the exit status
 *  for main (0 when every point passed, 1 otherwise). */
int done_testing(void);
/** Points emitted and failed so far. */
int tap_count(void);
int tap_failures(void);

#ifdef TAP_IMPLEMENTATION
#include <stdio.h>
#include <stdlib.h>

static int tap__planned = -1;
static int tap__n;
static int tap__failed;

void plan(int n)
{
  tap__planned = n;
  printf("1..%d\n", n);
  fflush(stdout);
}

static void tap__vline(const char *prefix, const char *fmt, va_list ap)
{
  fputs(prefix, stdout);
  vprintf(fmt, ap);
  fputc('\n', stdout);
  fflush(stdout);
}

int ok(int cond, const char *fmt, ...)
{
  va_list ap;
  cond = cond != 0;
  tap__n++;
  if (!cond)
    tap__failed++;
  printf("%sok %d - ", cond ? "" : "not ", tap__n);
  va_start(ap, fmt);
  tap__vline("", fmt, ap);
  va_end(ap);
  return cond;
}

void skip(const char *fmt, ...)
{
  va_list ap;
  tap__n++;
  printf("ok %d # SKIP ", tap__n);
  va_start(ap, fmt);
  tap__vline("", fmt, ap);
  va_end(ap);
}

void diag(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  tap__vline("# ", fmt, ap);
  va_end(ap);
}

void bail_out(const char *fmt, ...)
{
  va_list ap;
  va_start(ap, fmt);
  tap__vline("Bail out! ", fmt, ap);
  va_end(ap);
  exit(1);
}

int done_testing(void)
{
  if (tap__planned < 0)
    printf("1..%d\n", tap__n);
  else if (tap__planned != tap__n)
    printf("# planned %d tests but ran %d\n", tap__planned, tap__n);
  fflush(stdout);
  return (tap__failed || (tap__planned >= 0 && tap__planned != tap__n)) ? 1 : 0;
}

int tap_count(void) { return tap__n; }
int tap_failures(void) { return tap__failed; }
#endif /* TAP_IMPLEMENTATION */

#endif /* GLLMK_TESTS_TAP_H */
