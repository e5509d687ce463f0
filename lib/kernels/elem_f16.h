/* elem_f16.h -- element access for f16 kernels: widen on load, RNE on store */
#define T gllmk_f16
#define TN f16
#define VLOAD(p) vf32_load_f16(p)
#define VLOAD_N(p, n) vf32_load_f16_n((p), (n))
#define VSTORE(p, v) vf32_store_f16((p), (v))
#define VSTORE_N(p, n, v) vf32_store_f16_n((p), (n), (v))
#define LOAD1(p) gllmk__h2f((p)->bits)
#define STORE1(p, f) ((p)->bits = gllmk__f2h(f))
