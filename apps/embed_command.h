// `caudal embed`: item text -> a vector table file.
#pragma once

#include <string>

#include "caudal/semantic/endpoint.h"
#include "caudal/semantic/item_text.h"
#include "caudal/semantic/lexical.h"

namespace caudal {

struct EmbedRequest {
  std::string items;      // item side file
  std::string data;       // optional sequence file: fixes the catalogue size, reports items without text
  ItemTextOptions text;
  std::string encoder = "lexical";  // lexical | endpoint
  LexicalOptions lexical;
  EndpointOptions endpoint;
  bool allow_missing = false;       // items without text get the mean vector instead of an error
  std::string out;
  int threads = 1;
};

int run_embed(const EmbedRequest& request);

}  // namespace caudal
