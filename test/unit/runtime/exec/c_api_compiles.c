/* moert.h is a C header: this file compiles it as C (C99) and calls through
 * it from C, so the test fails to build if C++ leaks into the header. */
#include "moert/moert.h"

int moert_c_api_greedy_next(moert_session* session, uint32_t slot, int32_t* token) {
  moert_sampling_params params = {0.0f, 1.0f, 0};
  return moert_session_sample(session, slot, &params, token) == MOERT_OK;
}
