#include "embedding.cuh"
#include "weight_rows.cuh"

namespace lmrt::cuda {

namespace {

// Block t: row tokens[t], each thread decoding units of 8 values.
template <typename Row>
__global__ void embedding_rows(const uint8_t *table, size_t row_bytes, int64_t n, const int32_t *tokens, float *out, int64_t out_stride) {
    const uint8_t *row = table + static_cast<int64_t>(tokens[blockIdx.x]) * row_bytes;
    float *y = out + blockIdx.x * out_stride;
    for (int64_t u = threadIdx.x; u < n / kRowUnit; u += blockDim.x) {
        float w[kRowUnit];
        Row::decode(row, u, w);
        for (int i = 0; i < kRowUnit; ++i) y[kRowUnit * u + i] = w[i];
    }
    if constexpr (Row::kTail) {
        const int64_t i = n / kRowUnit * kRowUnit + threadIdx.x;
        if (i < n) y[i] = Row::at(row, i);
    }
}

} // namespace

cudaError_t embedding(uint32_t type, const void *table, int64_t n, const int32_t *tokens, int T, float *out, int64_t out_stride,
                      cudaStream_t stream) {
    if (T <= 0) return cudaSuccess;
    return with_row_type(type, n, [&](auto row, size_t row_bytes) {
        embedding_rows<decltype(row)><<<static_cast<unsigned>(T), 128, 0, stream>>>(static_cast<const uint8_t *>(table), row_bytes, n, tokens,
                                                                                  out, out_stride);
        return launched();
    });
}

} // namespace lmrt::cuda
