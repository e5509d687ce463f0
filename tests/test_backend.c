/* test_backend.c -- the device-ready backend API on every backend available:
 * opening and its messages, buffer copies, the workspace, graphs (record,
 * replay with new inputs, refusals while recording), streams
 * SPDX-License-Identifier: MIT
 *
 * Runs on the CPU backend, and on CUDA when it opens (in `make check` through
 * the test driver of tests/cudaemu, selected with GLLMK_CUDA_DRIVER).
 */
#include "tap.h"
#include "testutil.h"
#include <dlfcn.h>
#include <gllmk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* the emulated test driver (tests/cudaemu), which the CUDA tests of make check use */
static int emulated_driver(void) {
  const char *d = getenv("GLLMK_CUDA_DRIVER");
  return d && strstr(d, "cudaemu");
}

static void test_open_messages(void) {
  gllmk_backend *be = NULL;
  gllmk_status s = gllmk_backend_open("cpu", &be);
  ok(s == GLLMK_OK && !strcmp(gllmk_backend_error_message(), ""),
     "open(cpu) succeeds and leaves no message");
  gllmk_backend_close(be);
  s = gllmk_backend_open("nonsense", &be);
  ok(s == GLLMK_E_INVAL && strstr(gllmk_backend_error_message(), "nonsense"),
     "an unknown name is GLLMK_E_INVAL and the message names it: %s", gllmk_backend_error_message());
  const char *archs = gllmk_cuda_archs();
  ok(archs != NULL, "gllmk_cuda_archs() = \"%s\"", archs ? archs : "(null)");
  if (!archs || !*archs) {
    be = NULL;
    s = gllmk_backend_open("cuda", &be);
    ok(s == GLLMK_E_NO_DEVICE && !be && strstr(gllmk_backend_error_message(), "no CUDA backend"),
       "a build without CUDA: open(cuda) is GLLMK_E_NO_DEVICE: %s", gllmk_backend_error_message());
    int n = -1;
    ok(gllmk_cuda_device_count(&n) == GLLMK_E_NO_DEVICE && n == 0,
       "a build without CUDA: no devices");
  }
}

/* a_i = i, b_i = 2 - i: out = (a + b) * 3 = 6 everywhere, then a copy */
static int check_six(const float *v, size_t n, float want) {
  for (size_t i = 0; i < n; i++)
    if (v[i] != want) return 0;
  return 1;
}

static void test_backend(const char *name) {
  gllmk_backend *be = NULL;
  gllmk_status s = gllmk_backend_open(name, &be);
  if (s != GLLMK_OK) {
    const char *req = getenv("GLLMK_TEST_REQUIRE_CUDA");   /* tools/gpu-check */
    if (req && !strcmp(req, "1"))
      ok(0, "backend %s opens (GLLMK_TEST_REQUIRE_CUDA=1): %s", name, gllmk_backend_error_message());
    else
      skip("backend %s unavailable: %s", name, gllmk_backend_error_message());
    return;
  }
  diag("backend %s", gllmk_backend_name(be));
  const gllmk_ops_f32 *o = gllmk_backend_ops_f32(be);
  enum { N = 1000 };
  gllmk_buffer *ba = NULL, *bb = NULL, *bo = NULL, *bc = NULL;
  ok(gllmk_buffer_alloc(be, N * 4, &ba) == GLLMK_OK && gllmk_buffer_alloc(be, N * 4, &bb) == GLLMK_OK &&
         gllmk_buffer_alloc(be, N * 4, &bo) == GLLMK_OK && gllmk_buffer_alloc(be, N * 4, &bc) == GLLMK_OK,
     "%s: four buffers", name);
  if (!ba || !bb || !bo || !bc) goto out;
  float *a = gllmk_buffer_data(ba), *b = gllmk_buffer_data(bb), *out = gllmk_buffer_data(bo);
  static float ha[N], hb[N], hr[N];
  for (int i = 0; i < N; i++) {
    ha[i] = (float)i;
    hb[i] = 2.0f - (float)i;
  }
  gllmk_buffer_upload(ba, 0, ha, sizeof ha);
  gllmk_buffer_upload(bb, 0, hb, sizeof hb);

  /* streams */
  ok(gllmk_backend_set_stream(be, NULL) == GLLMK_OK, "%s: set_stream(NULL) is GLLMK_OK", name);
  if (!strcmp(name, "cpu"))
    ok(gllmk_backend_set_stream(be, (void *)be) == GLLMK_E_UNSUPPORTED && !gllmk_backend_stream(be),
       "cpu: a stream is GLLMK_E_UNSUPPORTED, the stream is NULL");
  else
    ok(gllmk_backend_stream(be) != NULL, "%s: the backend has a stream of its own", name);
  if (strcmp(name, "cpu") != 0) {
    /* the caller's stream: one made with the driver the library loaded, in the
     * device's primary context (current on this thread after any op) */
    void *h = dlopen(getenv("GLLMK_CUDA_DRIVER") ? getenv("GLLMK_CUDA_DRIVER") : "libcuda.so.1",
                     RTLD_NOW | RTLD_NOLOAD);
    int (*create)(void **, unsigned) = h ? (int (*)(void **, unsigned))dlsym(h, "cuStreamCreate") : NULL;
    int (*destroy)(void *) = h ? (int (*)(void *))dlsym(h, "cuStreamDestroy_v2") : NULL;
    void *own = gllmk_backend_stream(be), *mine = NULL;
    if (create && destroy && o->vec_scale(be, a, 1.0f, 1) == GLLMK_OK && create(&mine, 1) == 0) {
      gllmk_status s1 = gllmk_backend_set_stream(be, mine);
      int on_mine = gllmk_backend_stream(be) == mine;
      gllmk_status s2 = o->vec_add(be, a, b, out, N);
      int good = gllmk_buffer_download(bo, 0, hr, sizeof hr) == GLLMK_OK && check_six(hr, N, 2.0f);
      gllmk_status s3 = gllmk_backend_set_stream(be, NULL);
      ok(s1 == GLLMK_OK && on_mine && s2 == GLLMK_OK && good && s3 == GLLMK_OK &&
             gllmk_backend_stream(be) == own,
         "%s: ops run on the caller's stream, and set_stream(NULL) goes back to the backend's", name);
      destroy(mine);
    } else {
      skip("%s: cannot make a stream with the driver (%s)", name, h ? "no cuStreamCreate" : "not loaded");
    }
    if (h) dlclose(h);
  }

  /* buffer copies */
  memset(hr, 0, sizeof hr);
  ok(gllmk_buffer_copy(bc, 8, ba, 4, 400) == GLLMK_OK && gllmk_buffer_download(bc, 8, hr, 400) == GLLMK_OK &&
         !memcmp(hr, ha + 1, 400),
     "%s: buffer_copy of 400 bytes at offsets", name);
  ok(gllmk_buffer_copy(bc, N * 4 - 3, ba, 0, 4) == GLLMK_E_INVAL, "%s: a copy past the end is refused", name);
  ok(gllmk_buffer_copy(bc, 0, ba, SIZE_MAX, 4) == GLLMK_E_OVERFLOW, "%s: a wrapping offset is GLLMK_E_OVERFLOW", name);
  ok(gllmk_buffer_copy(ba, 0, ba, 8, 16) == GLLMK_E_INVAL, "%s: an overlapping copy within a buffer is refused", name);
  ok(gllmk_buffer_copy(ba, 0, ba, 16, 16) == GLLMK_OK, "%s: a disjoint copy within a buffer is fine", name);
  gllmk_buffer_upload(ba, 0, ha, sizeof ha);
  ok(gllmk_buffer_copy(NULL, 0, ba, 0, 4) == GLLMK_E_INVAL && gllmk_buffer_copy(bc, 0, NULL, 0, 4) == GLLMK_E_INVAL,
     "%s: NULL buffers are refused", name);
  gllmk_backend *cpu2 = NULL;
  if (gllmk_backend_open("cpu", &cpu2) == GLLMK_OK) {
    gllmk_buffer *other = NULL;
    if (gllmk_buffer_alloc(cpu2, 64, &other) == GLLMK_OK)
      ok(gllmk_buffer_copy(bc, 0, other, 0, 16) == GLLMK_E_INVAL,
         "%s: a copy from a buffer of another backend is refused", name);
    gllmk_buffer_free(other);
    gllmk_backend_close(cpu2);
  }

  /* workspace */
  ok(gllmk_backend_workspace_size(be) == 0, "%s: no workspace before the first reserve", name);
  ok(gllmk_backend_reserve_workspace(be, 4096) == GLLMK_OK && gllmk_backend_workspace_size(be) == 4096,
     "%s: reserve_workspace(4096)", name);
  ok(gllmk_backend_reserve_workspace(be, 100) == GLLMK_OK && gllmk_backend_workspace_size(be) == 4096,
     "%s: the workspace never shrinks", name);
  size_t need = 12345;
  ok(o->vec_add_workspace_bytes(be, N, &need) == GLLMK_OK && need == 0,
     "%s: vec_add needs no workspace", name);
  ok(o->gemm_workspace_bytes(NULL, 4, 4, 4, &need) == GLLMK_E_INVAL, "%s: a query without backend is refused", name);

  /* ops run in order */
  s = o->vec_add(be, a, b, out, N);
  if (s == GLLMK_OK) s = o->vec_scale(be, out, 3.0f, N);
  ok(s == GLLMK_OK && gllmk_buffer_download(bo, 0, hr, sizeof hr) == GLLMK_OK && check_six(hr, N, 6.0f),
     "%s: vec_add then vec_scale, in order", name);

  /* pointers outside this backend's buffers (the CPU backend takes host memory as it is) */
  if (strcmp(name, "cpu") != 0) {
    s = o->vec_add(be, ha, b, out, N);
    ok(s == GLLMK_E_INVAL, "%s: a host pointer is GLLMK_E_INVAL (%s)", name, tu_status_name(s));
    s = o->vec_add(be, a + 1, b, out, N);
    ok(s == GLLMK_E_INVAL, "%s: a range past a buffer's end is GLLMK_E_INVAL (%s)", name, tu_status_name(s));
  }

  /* graphs: record, then replay with new inputs */
  gllmk_graph *g = NULL;
  ok(gllmk_graph_end(be, &g) == GLLMK_E_INVAL && !g, "%s: graph_end without begin is refused", name);
  ok(gllmk_graph_begin(be) == GLLMK_OK, "%s: graph_begin", name);
  ok(gllmk_graph_begin(be) == GLLMK_E_INVAL, "%s: a second graph_begin is refused", name);
  s = o->vec_add(be, a, b, out, N);
  if (s == GLLMK_OK) s = o->vec_scale(be, out, 0.5f, N);
  if (s == GLLMK_OK) s = gllmk_buffer_copy(bc, 0, bo, 0, N * 4);
  ok(s == GLLMK_OK, "%s: ops and a copy recorded (%s)", name, tu_status_name(s));
  gllmk_buffer *tmp = NULL;
  ok(gllmk_buffer_alloc(be, 64, &tmp) == GLLMK_E_INVAL && !tmp, "%s: no allocation while recording", name);
  ok(gllmk_buffer_upload(ba, 0, ha, 4) == GLLMK_E_INVAL, "%s: no upload while recording", name);
  ok(gllmk_buffer_download(ba, 0, hr, 4) == GLLMK_E_INVAL, "%s: no download while recording", name);
  ok(gllmk_backend_synchronize(be) == GLLMK_E_INVAL, "%s: no synchronize while recording", name);
  ok(gllmk_backend_reserve_workspace(be, 1 << 20) == GLLMK_E_INVAL, "%s: no reserve while recording", name);
  ok(gllmk_backend_set_stream(be, NULL) == GLLMK_E_INVAL, "%s: no set_stream while recording", name);
  ok(gllmk_graph_end(be, &g) == GLLMK_OK && g, "%s: graph_end gives a graph", name);
  if (strcmp(name, "cpu") != 0 && emulated_driver()) {
    /* the test driver counts every allocation tried while a stream captures */
    void *h = dlopen(getenv("GLLMK_CUDA_DRIVER"), RTLD_NOW | RTLD_NOLOAD);
    int (*attempts)(void) = h ? (int (*)(void))dlsym(h, "gk_emu_capture_alloc_attempts") : NULL;
    ok(attempts && attempts() == 0, "%s: the driver saw no allocation during the capture (%d)", name,
       attempts ? attempts() : -1);
    if (h) dlclose(h);
  }
  /* nothing ran: out still holds 6 */
  ok(gllmk_buffer_download(bo, 0, hr, sizeof hr) == GLLMK_OK && check_six(hr, N, 6.0f),
     "%s: recording ran nothing", name);
  for (int i = 0; i < N; i++)
    hb[i] = 10.0f - (float)i;               /* a + b = 10: out = 5 */
  gllmk_buffer_upload(bb, 0, hb, sizeof hb);
  ok(gllmk_graph_launch(g) == GLLMK_OK && gllmk_backend_synchronize(be) == GLLMK_OK &&
         gllmk_buffer_download(bc, 0, hr, sizeof hr) == GLLMK_OK && check_six(hr, N, 5.0f),
     "%s: the graph replays on the new inputs", name);
  for (int i = 0; i < N; i++)
    hb[i] = 20.0f - (float)i;               /* out = 10 */
  gllmk_buffer_upload(bb, 0, hb, sizeof hb);
  ok(gllmk_graph_launch(g) == GLLMK_OK && gllmk_buffer_download(bc, 0, hr, sizeof hr) == GLLMK_OK &&
         check_six(hr, N, 10.0f),
     "%s: and again", name);
  ok(gllmk_backend_reserve_workspace(be, 1 << 20) == GLLMK_E_INVAL,
     "%s: the workspace cannot move while a graph exists", name);
  gllmk_graph_free(g);
  ok(gllmk_backend_reserve_workspace(be, 1 << 20) == GLLMK_OK, "%s: it can once the graph is freed", name);
  gllmk_graph_free(NULL);
  ok(gllmk_graph_launch(NULL) == GLLMK_E_INVAL && gllmk_graph_begin(NULL) == GLLMK_E_INVAL,
     "%s: NULL graphs and backends are refused", name);
out:
  gllmk_buffer_free(ba);
  gllmk_buffer_free(bb);
  gllmk_buffer_free(bo);
  gllmk_buffer_free(bc);
  gllmk_backend_close(be);
}

static void test_no_driver(void) {
  const char *archs = gllmk_cuda_archs();
  if (!archs || !*archs) {
    skip("built without CUDA: no driver loading to test");
    return;
  }
  /* the driver is loaded once per process: each case runs in a child */
  static const struct {
    const char *driver, *want;
  } cases[] = {
    {"/nonexistent/libcuda.so.1", "no CUDA driver"},
    {"/usr/local/cuda/lib64/stubs/libcuda.so", "stub"},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (i == 1 && access(cases[i].driver, R_OK) != 0) {
      skip("no toolkit stub driver at %s", cases[i].driver);
      continue;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      setenv("GLLMK_CUDA_DRIVER", cases[i].driver, 1);
      gllmk_backend *be = NULL;
      gllmk_status s = gllmk_backend_open("cuda", &be);
      int good = s == GLLMK_E_NO_DEVICE && !be && strstr(gllmk_backend_error_message(), cases[i].want);
      int n = -1;
      good &= gllmk_cuda_device_count(&n) == GLLMK_E_NO_DEVICE && n == 0;
      s = gllmk_backend_open("auto", &be);   /* auto falls back to the CPU */
      good &= s == GLLMK_OK && be && !strcmp(gllmk_backend_name(be), "cpu");
      gllmk_backend_close(be);
      if (!good) fprintf(stderr, "message: %s\n", gllmk_backend_error_message());
      _exit(good ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "GLLMK_CUDA_DRIVER=%s: open(cuda) is GLLMK_E_NO_DEVICE saying \"%s\", auto opens the cpu",
       cases[i].driver, cases[i].want);
  }
}

/* the emulated driver's devices (GLLMK_CUDAEMU_DEVICES), each setting in a
 * child since the driver is loaded once per process */
/* whether the embedded kernels run on a device of this capability: SASS of
 * the same major and a minor not above it */
static int covers(int major, int minor) {
  const char *p = gllmk_cuda_archs();
  while ((p = strstr(p, "sm_")) != NULL) {
    int v = atoi(p + 3);
    if (v / 10 == major && v % 10 <= minor) return 1;
    p += 3;
  }
  return 0;
}

static void test_emulated_devices(void) {
  if (!emulated_driver()) {
    skip("GLLMK_CUDA_DRIVER is not the emulated test driver: its device settings are not tested");
    return;
  }
  /* need: the compute capability (major * 10 + minor) the embedded kernels
   * must cover for the expectation to hold; a build for fewer architectures
   * (GLLMK_CUDA_ARCHS) skips that case */
  static const struct {
    const char *devices, *name;
    gllmk_status want;
    const char *message, *backend;
    int need;
  } cases[] = {
    {"none", "cuda", GLLMK_E_NO_DEVICE, "no device", NULL, 0},
    {"7.5", "cuda", GLLMK_E_UNSUPPORTED, "compute capability 7.5", NULL, 0},
    {"8.6,9.0", "cuda:1", GLLMK_OK, "", "cuda:1", 90},
    {"8.6,9.0", "cuda:2", GLLMK_E_NO_DEVICE, "no CUDA device 2", NULL, 0},
    {"8.9", "auto", GLLMK_OK, "", "cuda:0", 89},
    {"7.5", "auto", GLLMK_OK, "", "cpu", 0},
    {"7.5,9.0", "auto", GLLMK_OK, "", "cuda:1", 90},    /* the first device the kernels cover */
    {"12.0", "cuda", GLLMK_OK, "", "cuda:0", 120},
  };
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    if (cases[i].need && !covers(cases[i].need / 10, cases[i].need % 10)) {
      skip("the kernels (%s) do not cover %d.%d", gllmk_cuda_archs(), cases[i].need / 10,
           cases[i].need % 10);
      continue;
    }
    fflush(stdout);
    pid_t pid = fork();
    if (pid == 0) {
      setenv("GLLMK_CUDAEMU_DEVICES", cases[i].devices, 1);
      unsetenv("GLLM_DEVICE");
      gllmk_backend *be = NULL;
      gllmk_status s = gllmk_backend_open(cases[i].name, &be);
      int good = s == cases[i].want && strstr(gllmk_backend_error_message(), cases[i].message) &&
                 (cases[i].backend ? be && !strcmp(gllmk_backend_name(be), cases[i].backend) : !be);
      if (!good)
        fprintf(stderr, "%s: %s, message \"%s\"\n", cases[i].devices, gllmk_strerror(s),
                gllmk_backend_error_message());
      gllmk_backend_close(be);
      _exit(good ? 0 : 1);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
       "emulated devices \"%s\": open(%s) gives %s%s%s%s%s", cases[i].devices, cases[i].name,
       gllmk_strerror(cases[i].want), *cases[i].message ? ", saying " : "", cases[i].message,
       cases[i].backend ? ", " : "", cases[i].backend ? cases[i].backend : "");
  }
  /* gllmk_cuda_device_info on two devices */
  fflush(stdout);
  pid_t pid = fork();
  if (pid == 0) {
    setenv("GLLMK_CUDAEMU_DEVICES", "9.0,7.5", 1);
    int n = 0;
    gllmk_cuda_device a, b;
    int good = gllmk_cuda_device_count(&n) == GLLMK_OK && n == 2 &&
               gllmk_cuda_device_info(0, &a) == GLLMK_OK && gllmk_cuda_device_info(1, &b) == GLLMK_OK &&
               a.cc_major == 9 && a.cc_minor == 0 && a.kernels_cover == !!strstr(gllmk_cuda_archs(), "sm_90") &&
               b.cc_major == 7 && b.cc_minor == 5 && !b.kernels_cover && a.total_mem > 0 &&
               a.driver_version >= 13000 && a.sm_count > 0 && *a.name &&
               gllmk_cuda_device_info(2, &b) == GLLMK_E_NO_DEVICE && gllmk_cuda_device_info(0, NULL) == GLLMK_E_INVAL;
    _exit(good ? 0 : 1);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
     "gllmk_cuda_device_count/info: two devices, compute capability, memory, driver, coverage");
}

/* a backend closed while it records drops the recording (LSan sees a leak otherwise) */
static void test_close_recording(void) {
  gllmk_backend *be = NULL;
  if (gllmk_backend_open("cpu", &be) != GLLMK_OK) {
    ok(0, "open cpu");
    return;
  }
  float x[4] = {1, 2, 3, 4};
  const gllmk_ops_f32 *o = gllmk_backend_ops_f32(be);
  ok(gllmk_graph_begin(be) == GLLMK_OK && o->vec_scale(be, x, 2.0f, 4) == GLLMK_OK &&
         o->vec_add(be, x, x, x, 4) == GLLMK_OK && x[0] == 1,
     "cpu: two ops recorded, nothing run; the backend is then closed while recording");
  gllmk_backend_close(be);
}

int main(void) {
  tu_init();
  test_open_messages();
  test_no_driver();
  test_emulated_devices();
  test_backend("cpu");
  test_close_recording();
  if (getenv("GLLMK_TEST_NO_CUDA"))
    skip("GLLMK_TEST_NO_CUDA is set: the cuda backend is not tested");
  else
    test_backend("cuda");
  return done_testing();
}
