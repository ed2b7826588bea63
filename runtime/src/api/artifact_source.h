// What the C API needs from an opened artifact, as a small interface: the
// artifact reader (runtime/src/artifact) implements it for files, and tests
// implement it over hand-built manifests.
#ifndef MOERT_API_ARTIFACT_SOURCE_H_
#define MOERT_API_ARTIFACT_SOURCE_H_

#include <cstdint>
#include <memory>
#include <string>

#include "base/status.h"
#include "exec/session.h"
#include "moert/moert.h"
#include "schema/moex_generated.h"

namespace moert::api {

class ArtifactSource {
 public:
  virtual ~ArtifactSource() = default;
  // The path or a name, for messages.
  virtual const std::string& name() const = 0;
  // A verified manifest, valid as long as the source.
  virtual const moex::Manifest& manifest() const = 0;
  // Segment `index`'s bytes, valid as long as the source.
  virtual Result<exec::SegmentBytes> segment(uint32_t index) const = 0;
  // Whether this host can run the artifact's target.
  virtual Status CheckRunsOnHost() const = 0;
};

// Opens `path` with moert::Artifact::Open (runtime/src/artifact).
Result<std::unique_ptr<ArtifactSource>> OpenArtifactFile(const std::string& path);

// The C API's open, over any source: checks the target, builds the Program.
// On success *out is a handle for moert_artifact_close.
moert_status_t OpenArtifactFromSource(std::unique_ptr<ArtifactSource> source,
                                      moert_artifact** out);

}  // namespace moert::api

#endif  // MOERT_API_ARTIFACT_SOURCE_H_
