/* Reading the caller's public option structs safely across library versions
 * (docs/api/abi.md). Every public option struct starts with
 * `size_t struct_size`, set by its SOUPC_..._INIT macro to the sizeof the
 * caller was compiled with. */
#ifndef SOUPC_BASE_OPTIONS_H
#define SOUPC_BASE_OPTIONS_H

#include "soupc/soupc.h"

/* Largest struct_size accepted: anything bigger is an uninitialised struct,
 * not a newer library's (Linux caps openat2's struct size at a page too). */
#define SOUPC__OPTIONS_MAX_SIZE 4096

/*
 * Copies the caller's option struct @p src into @p dst, which has this
 * library's layout and @p dst_size bytes, the way Linux's
 * copy_struct_from_user() reads openat2's struct open_how:
 * - the caller's struct_size bytes (or fewer) are copied and the rest of
 *   @p dst is zeroed, so an older caller gets the defaults of fields it
 *   did not know about;
 * - a newer caller's struct is accepted only if every byte past @p dst_size
 *   is zero (it set none of the fields this library does not know);
 * - @p src NULL means all defaults.
 * @p dst->struct_size is set to @p dst_size either way, so internal code
 * can pass @p dst on to other public entry points.
 * @param type_name the public type, for the message ("soupc_server_options")
 * @return 0; SOUPC_ERR_INVALID_ARGUMENT (struct_size 0, smaller than the
 *         field itself or over SOUPC__OPTIONS_MAX_SIZE: not set up with the
 *         INIT macro); SOUPC_ERR_UNSUPPORTED (a field this version does
 *         not know is set). @p dst is zeroed on error; @p st says which.
 */
int soupc__options_copy(void *dst, size_t dst_size, const void *src,
                        const char *type_name, soupc_status *st);

#endif
