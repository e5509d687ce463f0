/* elem_f32.h -- element access for f32 kernels (included by instantiate.h) */
#define T float
#define TN f32
#define VLOAD(p) vf32_loadu(p)
#define VLOAD_N(p, n) vf32_load_n((p), (n))
#define VSTORE(p, v) vf32_storeu((p), (v))
#define VSTORE_N(p, n, v) vf32_store_n((p), (n), (v))
#define LOAD1(p) (*(p))
#define STORE1(p, f) (*(p) = (f))
