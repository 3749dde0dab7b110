// `pbrx build-images` in embedded mode: the cache (RocksDB under
// --cache-dir), the executor runtime and the pipeline all run in this
// process.
//
//   pbrx build-images [--prefix P] [--tag T]... [--base debian:SUITE]
//       [--output oci:DIR] [--find-links DIR] [--cache-dir DIR] [--jobs N]
//       [--json] [DIR...]
//
// Prints one line per image: "REF sha256:DIGEST". Exit codes: 0 all images
// built; 1 some project failed (the others still complete and are
// reported); 2 usage error.
#ifndef PBRX_CLIENT_BUILD_IMAGES_COMMAND_H_
#define PBRX_CLIENT_BUILD_IMAGES_COMMAND_H_

#include <iostream>
#include <string>
#include <vector>

namespace pbrx::client {

struct BuildImagesIo {
  std::ostream* out = &std::cout;
  std::ostream* err = &std::cerr;
};

int RunBuildImagesCommand(const std::vector<std::string>& args,
                          BuildImagesIo& io);

}  // namespace pbrx::client

#endif  // PBRX_CLIENT_BUILD_IMAGES_COMMAND_H_
