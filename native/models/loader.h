// Helpers the per-architecture loaders share: typed metadata reads and
// tensor binding with shape and type checks.
#pragma once

#include <initializer_list>
#include <string>

#include "model.h"

namespace lmrt {

class ModelLoader {
  public:
    ModelLoader(const GgufReader &gguf, const std::string &name, const std::string &arch)
        : gguf_(gguf), name_(name), arch_(arch) {}

    // `<arch>.<key>`; missing keys keep *out unless required.
    Status u32(const char *key, int *out, bool required) const;
    Status f32(const char *key, float *out, bool required) const;
    Status str(const char *key, std::string *out) const;

    // Binds tensor `tensor_name` with the given shape (ne[0] first). A
    // missing optional tensor leaves *out empty.
    Status tensor(const std::string &tensor_name, std::initializer_list<int64_t> shape, Tensor *out, bool required = true) const;

    const std::string &name() const { return name_; }

  private:
    const GgufValue *find(const std::string &key) const;

    const GgufReader &gguf_;
    const std::string &name_;
    std::string arch_;
};

Status load_llama_family(const ModelLoader &l, HParams *hp, ModelWeights *w);
Status load_gpt2(const ModelLoader &l, HParams *hp, ModelWeights *w);

} // namespace lmrt
