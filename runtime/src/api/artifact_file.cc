// ArtifactSource over the artifact reader.
#include "api/artifact_source.h"
#include "artifact/artifact.h"

namespace moert::api {
namespace {

class FileArtifact final : public ArtifactSource {
 public:
  explicit FileArtifact(Artifact artifact) : artifact_(std::move(artifact)) {}
  const std::string& name() const override { return artifact_.source(); }
  const moex::Manifest& manifest() const override { return artifact_.manifest(); }
  Result<exec::SegmentBytes> segment(uint32_t index) const override {
    // Open verified every index the manifest holds; this guards the rest.
    if (index >= artifact_.num_segments()) {
      return OutOfRange(artifact_.source(), ": segment ", index, " is past the ",
                        artifact_.num_segments(), " segments");
    }
    ByteSpan bytes = artifact_.segment(index);
    return exec::SegmentBytes{bytes.data, bytes.size};
  }
  Status CheckRunsOnHost() const override { return artifact_.CheckTargetRunsOnHost(); }

 private:
  Artifact artifact_;
};

}  // namespace

Result<std::unique_ptr<ArtifactSource>> OpenArtifactFile(const std::string& path) {
  MOERT_ASSIGN_OR_RETURN(Artifact artifact, Artifact::Open(path));
  return std::unique_ptr<ArtifactSource>(new FileArtifact(std::move(artifact)));
}

}  // namespace moert::api
