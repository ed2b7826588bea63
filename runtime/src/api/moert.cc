// The C API (include/moert/moert.h) over the executor. Every entry point
// converts a moert::Status into a code plus this thread's last-error message;
// nothing here throws (the runtime builds with -fno-exceptions).
#include "moert/moert.h"

#include <cstring>
#include <memory>
#include <string>

#include "api/artifact_source.h"
#include "exec/sampler.h"
#include "exec/session.h"

struct moert_artifact {
  // Shared with sessions: the Program points into the source's manifest and
  // segments, so both live as long as any session does.
  std::shared_ptr<const moert::api::ArtifactSource> source;
  std::shared_ptr<const moert::exec::Program> program;
};

struct moert_session {
  std::shared_ptr<const moert::api::ArtifactSource> source;
  std::unique_ptr<moert::exec::Session> session;
  // The sampler of the last sample call, reused while its parameters stay
  // the same (a sampler owns vocab-sized scratch).
  std::unique_ptr<moert::exec::Sampler> sampler;
};

namespace {

using moert::Status;
using moert::StatusCode;

static_assert(static_cast<int>(StatusCode::kInvalidArgument) == MOERT_INVALID_ARGUMENT &&
                  static_cast<int>(StatusCode::kNotFound) == MOERT_NOT_FOUND &&
                  static_cast<int>(StatusCode::kDataLoss) == MOERT_DATA_LOSS &&
                  static_cast<int>(StatusCode::kOutOfRange) == MOERT_OUT_OF_RANGE &&
                  static_cast<int>(StatusCode::kFailedPrecondition) == MOERT_FAILED_PRECONDITION &&
                  static_cast<int>(StatusCode::kUnimplemented) == MOERT_UNIMPLEMENTED &&
                  static_cast<int>(StatusCode::kResourceExhausted) == MOERT_RESOURCE_EXHAUSTED &&
                  static_cast<int>(StatusCode::kInternal) == MOERT_INTERNAL &&
                  static_cast<int>(StatusCode::kUnavailable) == MOERT_UNAVAILABLE,
              "moert_status_t mirrors moert::StatusCode");

// Constructed on first use per thread, so no global constructor runs.
std::string& LastError() {
  thread_local std::string message;
  return message;
}

moert_status_t Report(const Status& status) {
  if (status.ok()) return MOERT_OK;
  LastError() = status.message();
  return static_cast<moert_status_t>(status.code());
}

moert_status_t NullArgument(const char* call, const char* argument) {
  return Report(moert::InvalidArgument(call, ": ", argument, " is NULL"));
}

}  // namespace

namespace moert::api {

moert_status_t OpenArtifactFromSource(std::unique_ptr<ArtifactSource> source,
                                      moert_artifact** out) {
  if (!out) return NullArgument("moert_artifact_open", "out_artifact");
  if (!source) return NullArgument("moert_artifact_open", "source");
  Status runs = source->CheckRunsOnHost();
  if (!runs.ok()) return Report(runs.Annotate(source->name()));
  std::shared_ptr<const ArtifactSource> shared(std::move(source));
  exec::ProgramOptions options;
  options.source = shared->name();
  const ArtifactSource* raw = shared.get();
  Result<std::shared_ptr<const exec::Program>> program = exec::Program::Create(
      shared->manifest(), [raw](uint32_t index) { return raw->segment(index); }, options);
  if (!program.ok()) return Report(program.status());
  *out = new moert_artifact{std::move(shared), std::move(program).value()};
  return MOERT_OK;
}

}  // namespace moert::api

extern "C" {

const char* moert_status_name(moert_status_t status) {
  if (status < MOERT_OK || status > MOERT_UNAVAILABLE) return "UNKNOWN";
  return moert::StatusCodeName(static_cast<StatusCode>(status));
}

const char* moert_last_error(void) { return LastError().c_str(); }

moert_status_t moert_artifact_open(const char* path, moert_artifact** out_artifact) {
  if (!path) return NullArgument("moert_artifact_open", "path");
  if (!out_artifact) return NullArgument("moert_artifact_open", "out_artifact");
  auto source = moert::api::OpenArtifactFile(path);
  if (!source.ok()) return Report(source.status());
  return moert::api::OpenArtifactFromSource(std::move(source).value(), out_artifact);
}

void moert_artifact_close(moert_artifact* artifact) { delete artifact; }

moert_status_t moert_artifact_get_info(const moert_artifact* artifact,
                                       moert_artifact_info* out_info) {
  if (!artifact) return NullArgument("moert_artifact_get_info", "artifact");
  if (!out_info) return NullArgument("moert_artifact_get_info", "out_info");
  const moert::exec::Program& p = *artifact->program;
  out_info->vocab_size = p.vocab_size();
  out_info->max_context = p.max_context();
  out_info->num_slots = p.num_slots();
  out_info->prefill_rows = p.prefill() ? p.prefill()->rows() : 0;
  out_info->decode_rows = p.decode() ? p.decode()->rows() : 0;
  out_info->eos_token_id = p.eos_token_id();
  return MOERT_OK;
}

moert_status_t moert_session_create(moert_artifact* artifact, const moert_session_options* options,
                                    moert_session** out_session) {
  if (!artifact) return NullArgument("moert_session_create", "artifact");
  if (!out_session) return NullArgument("moert_session_create", "out_session");
  moert::exec::SessionOptions session_options;
  if (options) session_options.threads = options->threads;
  auto session = moert::exec::Session::Create(artifact->program, session_options);
  if (!session.ok()) return Report(session.status());
  *out_session = new moert_session{artifact->source, std::move(session).value(), nullptr};
  return MOERT_OK;
}

void moert_session_destroy(moert_session* session) { delete session; }

moert_status_t moert_session_prefill(moert_session* session, uint32_t slot, const int32_t* tokens,
                                     size_t count, float* all_logits) {
  if (!session) return NullArgument("moert_session_prefill", "session");
  if (!tokens) return NullArgument("moert_session_prefill", "tokens");
  return Report(session->session->Prefill(slot, tokens, count, all_logits));
}

moert_status_t moert_session_decode(moert_session* session, const uint32_t* slots,
                                    const int32_t* tokens, size_t count) {
  if (!session) return NullArgument("moert_session_decode", "session");
  if (!slots) return NullArgument("moert_session_decode", "slots");
  if (!tokens) return NullArgument("moert_session_decode", "tokens");
  return Report(session->session->Decode(slots, tokens, count));
}

moert_status_t moert_session_logits(const moert_session* session, uint32_t slot,
                                    const float** out_logits, size_t* out_count) {
  if (!session) return NullArgument("moert_session_logits", "session");
  if (!out_logits) return NullArgument("moert_session_logits", "out_logits");
  const moert::exec::Session& s = *session->session;
  if (slot >= s.program().num_slots()) {
    return Report(moert::InvalidArgument("moert_session_logits: slot ", slot,
                                         " is past the artifact's ", s.program().num_slots(),
                                         " slots"));
  }
  const float* logits = s.logits(slot);
  if (!logits) {
    return Report(moert::FailedPrecondition("moert_session_logits: slot ", slot,
                                            " has no logits yet (prefill first)"));
  }
  *out_logits = logits;
  if (out_count) *out_count = s.program().vocab_size();
  return MOERT_OK;
}

moert_status_t moert_session_sample(moert_session* session, uint32_t slot,
                                    const moert_sampling_params* params, int32_t* out_token) {
  if (!session) return NullArgument("moert_session_sample", "session");
  if (!out_token) return NullArgument("moert_session_sample", "out_token");
  moert::exec::SamplingParams p;
  if (params) {
    p.temperature = params->temperature;
    p.top_p = params->top_p;
    p.seed = params->seed;
  }
  const moert::exec::SamplingParams* cached =
      session->sampler ? &session->sampler->params() : nullptr;
  if (!cached || cached->temperature != p.temperature || cached->top_p != p.top_p ||
      cached->seed != p.seed) {
    auto sampler = moert::exec::Sampler::Create(session->session->program().vocab_size(), p);
    if (!sampler.ok()) return Report(sampler.status());
    session->sampler = std::make_unique<moert::exec::Sampler>(std::move(sampler).value());
  }
  auto token = session->session->Sample(slot, *session->sampler);
  if (!token.ok()) return Report(token.status());
  *out_token = *token;
  return MOERT_OK;
}

moert_status_t moert_session_position(const moert_session* session, uint32_t slot,
                                      uint32_t* out_position) {
  if (!session) return NullArgument("moert_session_position", "session");
  if (!out_position) return NullArgument("moert_session_position", "out_position");
  if (slot >= session->session->program().num_slots()) {
    return Report(moert::InvalidArgument("moert_session_position: slot ", slot,
                                         " is past the artifact's ",
                                         session->session->program().num_slots(), " slots"));
  }
  *out_position = session->session->position(slot);
  return MOERT_OK;
}

moert_status_t moert_session_reset_slot(moert_session* session, uint32_t slot) {
  if (!session) return NullArgument("moert_session_reset_slot", "session");
  return Report(session->session->ResetSlot(slot));
}

}  // extern "C"
