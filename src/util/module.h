// Modules: shared libraries beside the executable that taco loads on first use.
//   libtaco_torch.so          everything that needs libtorch (the torchscript tool backend,
//                             the embedded model, its trainer): loading libtorch costs about
//                             half a second and 100 MB, which other commands should not pay.
//   libtaco_sentencepiece.so  the SentencePiece library, in isolation: it carries its own
//                             copy of protobuf's symbols, which clash with the libprotobuf that
//                             OpenCV loads into every taco process (a crash at start when both
//                             are linked), so it is opened with its own symbols first.
// A module's taco symbols resolve against the executable that loads it. Thread-safe.
#pragma once

namespace taco {

// The address of `symbol` in the module `file` (a name beside the executable), loading the
// module once. Throws Error when it cannot be loaded or lacks the symbol; `purpose` says what
// needed it ("the embedded model").
void* module_symbol(const char* file, const char* symbol, const char* purpose);

inline void* torch_module_symbol(const char* symbol, const char* purpose) {
  return module_symbol("libtaco_torch.so", symbol, purpose);
}

}  // namespace taco
