/* elem_undef.h -- end one element type's instantiation */
#undef T
#undef TN
#undef VLOAD
#undef VLOAD_N
#undef VSTORE
#undef VSTORE_N
#undef LOAD1
#undef STORE1
