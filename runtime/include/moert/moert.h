/* moert.h: the C API of moert, the runtime that runs .moex artifacts.
 *
 * A minimal generation loop:
 *
 *   moert_artifact* artifact;
 *   moert_session* session;
 *   if (moert_artifact_open("gpt-oss-20b.moex", &artifact) != MOERT_OK ||
 *       moert_session_create(artifact, NULL, &session) != MOERT_OK) {
 *     fprintf(stderr, "%s\n", moert_last_error());
 *     ...
 *   }
 *   moert_session_prefill(session, 0, prompt, prompt_len, NULL);
 *   moert_sampling_params params = {0.7f, 0.9f, 42};  // temperature, top_p, seed
 *   for (...) {
 *     int32_t token;
 *     moert_session_sample(session, 0, &params, &token);
 *     uint32_t slot = 0;
 *     moert_session_decode(session, &slot, &token, 1);
 *   }
 *   moert_session_destroy(session);
 *   moert_artifact_close(artifact);
 *
 * Conventions: every fallible call returns a moert_status_t; on failure the
 * message (naming the file, slot, token or limit at fault) is available from
 * moert_last_error() on the same thread until its next failing call. Outputs
 * are written only on success. No C++ exception crosses this API. Handles
 * are not thread-safe: use a session from one thread at a time (different
 * sessions may run concurrently; an artifact may be shared by them).
 */
#ifndef MOERT_MOERT_H_
#define MOERT_MOERT_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Status codes; the same meanings as moert::StatusCode. */
typedef enum moert_status_t {
  MOERT_OK = 0,
  MOERT_INVALID_ARGUMENT = 1,    /* the caller passed something unusable */
  MOERT_NOT_FOUND = 2,           /* a file or field that must exist does not */
  MOERT_DATA_LOSS = 3,           /* the artifact's bytes are malformed */
  MOERT_OUT_OF_RANGE = 4,        /* past a limit, e.g. the context length */
  MOERT_FAILED_PRECONDITION = 5, /* not in a state for this call */
  MOERT_UNIMPLEMENTED = 6,       /* valid, but this build cannot do it */
  MOERT_RESOURCE_EXHAUSTED = 7,  /* out of memory */
  MOERT_INTERNAL = 8,            /* a bug in moert */
  MOERT_UNAVAILABLE = 9,         /* an OS or driver call failed */
} moert_status_t;

/* "OK", "INVALID_ARGUMENT", ...; never NULL. */
const char* moert_status_name(moert_status_t status);

/* The message of this thread's most recent failed call ("" if none). Valid
 * until the next failing call on this thread. */
const char* moert_last_error(void);

/* An opened, verified artifact: its manifest, weights and loaded code. */
typedef struct moert_artifact moert_artifact;
/* A set of sequences in flight (one per slot) with their KV caches. */
typedef struct moert_session moert_session;

/* Opens and verifies the artifact at `path`, checks that this host can run
 * its target, and loads its device code. */
moert_status_t moert_artifact_open(const char* path, moert_artifact** out_artifact);

/* Releases the handle; sessions created from it stay valid (they hold what
 * they need). NULL is ignored. */
void moert_artifact_close(moert_artifact* artifact);

typedef struct moert_artifact_info {
  uint32_t vocab_size;   /* logits per row */
  uint32_t max_context;  /* tokens a sequence may hold */
  uint32_t num_slots;    /* sequences a session holds at once */
  uint32_t prefill_rows; /* prompt chunk size; 0 without a prefill entry */
  uint32_t decode_rows;  /* most sequences per decode call; 0 without decode */
  int32_t eos_token_id;  /* -1 when the model names none */
} moert_artifact_info;

moert_status_t moert_artifact_get_info(const moert_artifact* artifact,
                                       moert_artifact_info* out_info);

typedef struct moert_session_options {
  /* Threads running each kernel, the caller included; 0 = all available
   * CPUs, 1 = only the calling thread. */
  uint32_t threads;
} moert_session_options;

/* Creates a session with empty slots; `options` may be NULL (defaults). */
moert_status_t moert_session_create(moert_artifact* artifact, const moert_session_options* options,
                                    moert_session** out_session);

/* NULL is ignored. */
void moert_session_destroy(moert_session* session);

/* Appends `count` tokens to the sequence in `slot` (a new sequence after
 * creation or reset). If `all_logits` is not NULL it receives count *
 * vocab_size floats, row i the logits after token i; in any case the last
 * row becomes the slot's logits. Without all_logits only that row's logits
 * are computed, the cheaper call. MOERT_OUT_OF_RANGE when the sequence would
 * pass max_context. */
moert_status_t moert_session_prefill(moert_session* session, uint32_t slot, const int32_t* tokens,
                                     size_t count, float* all_logits);

/* Appends tokens[i] to the sequence in slots[i] for i < count, in one batch;
 * slots distinct, count <= decode_rows. Each slot's logits are replaced. */
moert_status_t moert_session_decode(moert_session* session, const uint32_t* slots,
                                    const int32_t* tokens, size_t count);

/* The slot's current logits (vocab_size floats), valid until the next call
 * that feeds this slot or destroys the session. MOERT_FAILED_PRECONDITION
 * before the slot has been fed. */
moert_status_t moert_session_logits(const moert_session* session, uint32_t slot,
                                    const float** out_logits, size_t* out_count);

typedef struct moert_sampling_params {
  float temperature; /* 0 = greedy (argmax, lowest id on ties); >= 0 */
  float top_p;       /* nucleus mass in (0, 1]; 1 = no truncation */
  uint64_t seed;     /* draws are keyed by (seed, position): reproducible */
} moert_sampling_params;

/* Draws the next token of `slot` from its logits; `params` NULL is greedy.
 * Does not feed the token: pass it to moert_session_decode. */
moert_status_t moert_session_sample(moert_session* session, uint32_t slot,
                                    const moert_sampling_params* params, int32_t* out_token);

/* Tokens in the sequence of `slot`. */
moert_status_t moert_session_position(const moert_session* session, uint32_t slot,
                                      uint32_t* out_position);

/* Ends the sequence in `slot`: position 0, no logits. */
moert_status_t moert_session_reset_slot(moert_session* session, uint32_t slot);

#ifdef __cplusplus
}  /* extern "C" */
#endif

#endif  /* MOERT_MOERT_H_ */
