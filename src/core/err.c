/* SPDX-License-Identifier: BSD-3-Clause */
#include "kite/err.h"

const char *kite_err_str(enum kite_err err)
{
    switch (err) {
#define KITE_ERR_STR_(name, value, text)                                                           \
    case KITE_ERR_##name:                                                                          \
        return text;
        KITE_ERR_LIST(KITE_ERR_STR_)
#undef KITE_ERR_STR_
    }
    return "unknown error";
}

const char *kite_err_name(enum kite_err err)
{
    switch (err) {
#define KITE_ERR_NAME_(name, value, text)                                                          \
    case KITE_ERR_##name:                                                                          \
        return #name;
        KITE_ERR_LIST(KITE_ERR_NAME_)
#undef KITE_ERR_NAME_
    }
    return "UNKNOWN";
}
