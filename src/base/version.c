/* The version of the library actually loaded (soupc.h, version.h). */
#include "soupc/soupc.h"

const char *soupc_version(void) {
  return SOUPC_VERSION;
}

unsigned int soupc_version_num(void) {
  return SOUPC_VERSION_NUM;
}
