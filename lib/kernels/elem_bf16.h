/* elem_bf16.h -- element access for bf16 kernels: widen on load, RNE on store */
#define T gllmk_bf16
#define TN bf16
#define VLOAD(p) vf32_load_bf16(p)
#define VLOAD_N(p, n) vf32_load_bf16_n((p), (n))
#define VSTORE(p, v) vf32_store_bf16((p), (v))
#define VSTORE_N(p, n, v) vf32_store_bf16_n((p), (n), (v))
#define LOAD1(p) gllmk__bf2f((p)->bits)
#define STORE1(p, f) ((p)->bits = gllmk__f2bf(f))
