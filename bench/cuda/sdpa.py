# PyTorch's scaled_dot_product_attention on the paged-attention benchmark's
# shapes (one query per sequence, 32 query heads over 8 KV heads of 128,
# f16, contiguous K/V): prints "batch context milliseconds" lines for
# lmrt_cuda_bench --sdpa.
import sys

import torch
import torch.nn.functional as F


def main() -> None:
    if not torch.cuda.is_available():
        print("# no CUDA device for PyTorch", file=sys.stderr)
        return
    for batch in (1, 32):
        for context in (4096, 32768):
            q = torch.randn(batch, 32, 1, 128, device="cuda", dtype=torch.float16)
            k = torch.randn(batch, 8, context, 128, device="cuda", dtype=torch.float16)
            v = torch.randn(batch, 8, context, 128, device="cuda", dtype=torch.float16)
            note = "enable_gqa"
            try:
                run = lambda: F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                run()
            except TypeError:  # before PyTorch 2.5: K/V repeated to every query head
                note = "repeat_interleave"
                k4, v4 = k.repeat_interleave(4, dim=1), v.repeat_interleave(4, dim=1)
                run = lambda: F.scaled_dot_product_attention(q, k4, v4)
            for _ in range(3):
                run()
            start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            iterations = 20
            start.record()
            for _ in range(iterations):
                run()
            stop.record()
            torch.cuda.synchronize()
            print(f"{batch} {context} {start.elapsed_time(stop) / iterations:.4f} {note}", flush=True)


if __name__ == "__main__":
    with torch.no_grad():
        main()
