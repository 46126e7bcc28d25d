// Kernels of structured (channel) pruning. A weight is viewed as [outer, C, inner] around the
// axis being pruned (conv out channels: outer 1, inner Cin*k*k; next conv's in channels: outer
// Cout, inner k*k; Flatten→Gemm features: inner = spatial size), so one pair of kernels serves
// every axis of every layer.
//  - channel_lnorm: dst[c] = sum over (o, i) of |src[o, c, i]|^p for p = 1 or 2 (the host takes
//    the square root for p = 2, so the per-channel sums of several layers can be formed first).
//  - gather_channels: dst[o, j, i] = src[o, idx[j], i], the compaction that keeps channels idx
//    (ascending i32 indices). Rows are contiguous runs of `inner` floats: memory.copy moves them.

// @ts-ignore: decorator
@inline function rowSum(p: usize, n: i32, pw: i32): f32 {
  let acc = f32x4.splat(0);
  let i = 0;
  if (pw == 1) {
    for (; i + 4 <= n; i += 4) acc = f32x4.add(acc, f32x4.abs(v128.load(p + (<usize>i << 2))));
  } else {
    for (; i + 4 <= n; i += 4) {
      const v = v128.load(p + (<usize>i << 2));
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
  }
  let s = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
  for (; i < n; i++) {
    const x = load<f32>(p + (<usize>i << 2));
    s += pw == 1 ? Mathf.abs(x) : x * x;
  }
  return s;
}

export function channel_lnorm(src: usize, outer: i32, c: i32, inner: i32, pw: i32, dst: usize): void {
  for (let j = 0; j < c; j++) store<f32>(dst + (<usize>j << 2), 0);
  const rowBytes = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    const base = src + <usize>o * <usize>c * rowBytes;
    for (let j = 0; j < c; j++) {
      const q = dst + (<usize>j << 2);
      store<f32>(q, load<f32>(q) + rowSum(base + <usize>j * rowBytes, inner, pw));
    }
  }
}

export function gather_channels(src: usize, outer: i32, c: i32, inner: i32, idx: usize, k: i32, dst: usize): void {
  const rowBytes = <usize>inner << 2;
  let out = dst;
  for (let o = 0; o < outer; o++) {
    const base = src + <usize>o * <usize>c * rowBytes;
    for (let j = 0; j < k; j++) {
      memory.copy(out, base + <usize>load<i32>(idx + (<usize>j << 2)) * rowBytes, rowBytes);
      out += rowBytes;
    }
  }
}
