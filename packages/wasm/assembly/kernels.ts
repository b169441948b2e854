// The WebAssembly SIMD kernels of @deprune/wasm, in AssemblyScript (compiled at build time by
// scripts/build-wasm.mjs, twice: plain SIMD, and relaxed SIMD where f32x4.relaxed_madd is FMA).
//
// Every kernel works on float32 NCHW data at byte addresses in the one imported memory that the
// TypeScript side allocates; nothing here allocates. Shapes, strides and tap lists arrive as
// arguments at run time: one module serves every layer (see the package README for why this and
// not per-layer generated code). Activation codes are the contract's (@deprune/kernels
// ACTIVATION_CODES): 0 none, 1 relu, 2 clip(alpha, beta), 3 hardswish, 4 hardsigmoid, 5 sigmoid, 6 silu, 7 alpha * hardswish + beta.

// a * b + c: one fused instruction with relaxed SIMD (rounded once), mul then add without.
// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(f32x4.mul(a, b), c);
}

/** 1 when this module was built with relaxed SIMD (FMA), else 0. */
export function usesRelaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}

// @ts-ignore: decorator
@inline function sigmoid1(v: f32): f32 {
  return 1.0 / (1.0 + Mathf.exp(-v));
}

/**
 * e^x on four lanes: x = n ln 2 + r with |r| <= ln 2 / 2 (ln 2 split in two parts so r is exact),
 * e^r by its Taylor polynomial to r^6 (relative error below 2e-7 there), times 2^n built in the
 * exponent bits. x is clamped to [-87, 88] first, where e^x stays a normal float32. Sigmoid and
 * SiLU run on every output of EfficientNet's convolutions: a scalar exp per value made them
 * several times the cost of the convolution itself.
 */
// @ts-ignore: decorator
@inline function exp4(x: v128): v128 {
  x = f32x4.pmin(f32x4.splat(88.0), f32x4.pmax(f32x4.splat(-87.0), x));
  const n = f32x4.nearest(f32x4.mul(x, f32x4.splat(1.44269504088896341)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693359375)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(-2.12194440e-4)));
  let p = f32x4.splat(1.0 / 720.0);
  p = madd(p, r, f32x4.splat(1.0 / 120.0));
  p = madd(p, r, f32x4.splat(1.0 / 24.0));
  p = madd(p, r, f32x4.splat(1.0 / 6.0));
  p = madd(p, r, f32x4.splat(0.5));
  p = madd(p, r, f32x4.splat(1.0));
  p = madd(p, r, f32x4.splat(1.0));
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  return f32x4.mul(p, scale);
}

/** 1 / (1 + e^-x) on four lanes. */
// @ts-ignore: decorator
@inline function sigmoid4(v: v128): v128 {
  return f32x4.div(f32x4.splat(1), f32x4.add(f32x4.splat(1), exp4(f32x4.neg(v))));
}

/** The fused epilogue on four values (pmax / pmin: one instruction each, no NaN fix-ups). */
// @ts-ignore: decorator
@inline function activate(v: v128, code: i32, alpha: v128, beta: v128): v128 {
  if (code == 0) return v;
  const zero = f32x4.splat(0);
  if (code == 1) return f32x4.pmax(zero, v);
  if (code == 2) return f32x4.pmin(beta, f32x4.pmax(alpha, v));
  const one = f32x4.splat(1);
  if (code == 3) return f32x4.mul(v, f32x4.pmin(one, f32x4.pmax(zero, madd(alpha, v, beta))));
  if (code == 4) return f32x4.pmin(one, f32x4.pmax(zero, madd(alpha, v, beta)));
  if (code == 5) return sigmoid4(v);
  if (code == 6) return f32x4.mul(v, sigmoid4(v));
  if (code == 7) return madd(alpha, f32x4.mul(v, f32x4.pmin(one, f32x4.pmax(zero, madd(f32x4.splat(1.0 / 6.0), v, f32x4.splat(0.5))))), beta);
  return v;
}

// @ts-ignore: decorator
@inline function activate1(v: f32, code: i32, alpha: f32, beta: f32): f32 {
  if (code == 0) return v;
  if (code == 1) return v < 0 ? 0 : v;
  if (code == 2) return min(max(v, alpha), beta);
  if (code == 3) return v * min(max(alpha * v + beta, 0), 1);
  if (code == 4) return min(max(alpha * v + beta, 0), 1);
  if (code == 5) return sigmoid1(v);
  if (code == 6) return v * sigmoid1(v);
  if (code == 7) return alpha * (v * min(max(v * <f32>(1.0 / 6.0) + 0.5, 0), 1)) + beta;
  return v;
}

/**
 * Y[M, P] = W[M, K] * X[K, P] + bias, then the epilogue: the point-wise conv, and every GEMM the
 * backend runs (conv via im2col, MatMul, Gemm). W is packed in panels of 4 rows (`packPanels` on
 * the TypeScript side): panel p holds, for each k, the 4 rows' weights side by side, so one
 * 16-byte step walks k and each weight is one load32_splat. Register tile: 4 rows x 8 pixels
 * (8 accumulators, 6 loads per 16 multiply-adds). Pixel blocks are the outer loop so a block's
 * K x 8 slice of X stays in L1 while every panel passes over it.
 * Rows are `xStride` / `yStride` floats apart; `bias` has 4 * panels floats (zero-padded).
 */
export function gemmPanels(w: usize, x: usize, bias: usize, y: usize, K: i32, M: i32, P: i32, xStride: i32, yStride: i32, code: i32, alpha: f32, beta: f32): void {
  const panels = (M + 3) >> 2;
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(beta);
  const xRow = <usize>xStride << 2;
  let p0 = 0;
  for (; p0 + 8 <= P; p0 += 8) {
    for (let panel = 0; panel < panels; panel++) {
      let wp = w + (<usize>panel * <usize>K << 4);
      const bp = bias + (<usize>panel << 4);
      let a00 = v128.load32_splat(bp), a01 = a00;
      let a10 = v128.load32_splat(bp, 4), a11 = a10;
      let a20 = v128.load32_splat(bp, 8), a21 = a20;
      let a30 = v128.load32_splat(bp, 12), a31 = a30;
      let xp = x + (<usize>p0 << 2);
      for (let k = 0; k < K; k++) {
        const x0 = v128.load(xp);
        const x1 = v128.load(xp, 16);
        const w0 = v128.load32_splat(wp);
        const w1 = v128.load32_splat(wp, 4);
        const w2 = v128.load32_splat(wp, 8);
        const w3 = v128.load32_splat(wp, 12);
        a00 = madd(w0, x0, a00);
        a01 = madd(w0, x1, a01);
        a10 = madd(w1, x0, a10);
        a11 = madd(w1, x1, a11);
        a20 = madd(w2, x0, a20);
        a21 = madd(w2, x1, a21);
        a30 = madd(w3, x0, a30);
        a31 = madd(w3, x1, a31);
        xp += xRow;
        wp += 16;
      }
      const row = panel << 2;
      storeTile(y + ((<usize>row * <usize>yStride + <usize>p0) << 2), <usize>yStride << 2, M - row, a00, a01, a10, a11, a20, a21, a30, a31, code, av, bv);
    }
  }
  gemmTail(w, x, bias, y, K, M, P, xStride, yStride, code, alpha, beta, p0);
}

/**
 * The epilogue of a 4 x 8 register tile (gemmPanels, gemmGather): rows r = 0..3 of 8 outputs each,
 * `a_r0` then `a_r1`, activated and stored `rowBytes` apart; rows past `rows` (the matrix's last
 * panel) are not stored.
 */
// @ts-ignore: decorator
@inline function storeTile(yp: usize, rowBytes: usize, rows: i32, a00: v128, a01: v128, a10: v128, a11: v128, a20: v128, a21: v128, a30: v128, a31: v128, code: i32, av: v128, bv: v128): void {
  v128.store(yp, activate(a00, code, av, bv));
  v128.store(yp, activate(a01, code, av, bv), 16);
  if (rows > 1) {
    v128.store(yp + rowBytes, activate(a10, code, av, bv));
    v128.store(yp + rowBytes, activate(a11, code, av, bv), 16);
  }
  if (rows > 2) {
    v128.store(yp + 2 * rowBytes, activate(a20, code, av, bv));
    v128.store(yp + 2 * rowBytes, activate(a21, code, av, bv), 16);
  }
  if (rows > 3) {
    v128.store(yp + 3 * rowBytes, activate(a30, code, av, bv));
    v128.store(yp + 3 * rowBytes, activate(a31, code, av, bv), 16);
  }
}

/** The last P - p0 (< 8) pixels of gemmPanels: a 4-pixel vector step, then pixel by pixel. */
function gemmTail(w: usize, x: usize, bias: usize, y: usize, K: i32, M: i32, P: i32, xStride: i32, yStride: i32, code: i32, alpha: f32, beta: f32, p0: i32): void {
  const panels = (M + 3) >> 2;
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(beta);
  const xRow = <usize>xStride << 2;
  if (p0 + 4 <= P) {
    for (let panel = 0; panel < panels; panel++) {
      let wp = w + (<usize>panel * <usize>K << 4);
      const bp = bias + (<usize>panel << 4);
      let a0 = v128.load32_splat(bp);
      let a1 = v128.load32_splat(bp, 4);
      let a2 = v128.load32_splat(bp, 8);
      let a3 = v128.load32_splat(bp, 12);
      let xp = x + (<usize>p0 << 2);
      for (let k = 0; k < K; k++) {
        const x0 = v128.load(xp);
        a0 = madd(v128.load32_splat(wp), x0, a0);
        a1 = madd(v128.load32_splat(wp, 4), x0, a1);
        a2 = madd(v128.load32_splat(wp, 8), x0, a2);
        a3 = madd(v128.load32_splat(wp, 12), x0, a3);
        xp += xRow;
        wp += 16;
      }
      const row = panel << 2;
      const yp = y + ((<usize>row * <usize>yStride + <usize>p0) << 2);
      const yRow = <usize>yStride << 2;
      v128.store(yp, activate(a0, code, av, bv));
      if (row + 1 < M) v128.store(yp + yRow, activate(a1, code, av, bv));
      if (row + 2 < M) v128.store(yp + 2 * yRow, activate(a2, code, av, bv));
      if (row + 3 < M) v128.store(yp + 3 * yRow, activate(a3, code, av, bv));
    }
    p0 += 4;
  }
  for (; p0 < P; p0++) {
    const xPixel = x + (<usize>p0 << 2);
    for (let panel = 0; panel < panels; panel++) {
      const row = panel << 2;
      const yp = y + ((<usize>row * <usize>yStride + <usize>p0) << 2);
      storeColumn(yp, <usize>yStride << 2, M - row, activate(gemmColumn(w + (<usize>panel * <usize>K << 4), xPixel, bias + (<usize>panel << 4), K, xRow), code, av, bv));
    }
  }
}

/**
 * One output pixel of one panel: the panel's weight column for each k is a vector of its 4 rows,
 * times x[k] splatted. Two accumulators (even and odd k) halve the add latency chain. This is
 * the tail of the pixel loop, and the whole GEMV when there is one pixel (a classifier).
 */
// @ts-ignore: decorator
@inline function gemmColumn(wp: usize, xp: usize, bp: usize, K: i32, xRow: usize): v128 {
  let a0 = v128.load(bp);
  let a1 = f32x4.splat(0);
  let k = 0;
  for (; k + 2 <= K; k += 2) {
    a0 = madd(v128.load(wp), v128.load32_splat(xp), a0);
    a1 = madd(v128.load(wp, 16), v128.load32_splat(xp + xRow), a1);
    xp += xRow << 1;
    wp += 32;
  }
  if (k < K) a0 = madd(v128.load(wp), v128.load32_splat(xp), a0);
  return f32x4.add(a0, a1);
}

/** Stores the first `rows` (1..4, more means 4) lanes of `v` down a column, `rowBytes` apart. */
// @ts-ignore: decorator
@inline function storeColumn(yp: usize, rowBytes: usize, rows: i32, v: v128): void {
  store<f32>(yp, f32x4.extract_lane(v, 0));
  if (rows > 1) store<f32>(yp + rowBytes, f32x4.extract_lane(v, 1));
  if (rows > 2) store<f32>(yp + 2 * rowBytes, f32x4.extract_lane(v, 2));
  if (rows > 3) store<f32>(yp + 3 * rowBytes, f32x4.extract_lane(v, 3));
}

/**
 * Copies `n` floats, four at a time. Rows here are short (7 to 112 floats) and many: a
 * memory.copy per row is a call into the engine that costs more than the copy itself.
 */
// @ts-ignore: decorator
@inline function copyFloats(dst: usize, src: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(dst + (<usize>i << 2), v128.load(src + (<usize>i << 2)));
  for (; i < n; i++) store<f32>(dst + (<usize>i << 2), load<f32>(src + (<usize>i << 2)));
}

/**
 * Copies one input plane [H, W] into the sh * sw zero-bordered phase planes of [Hq, Wq] at `s`:
 * padded position (i, j) (= input row + padTop, column + padLeft) goes to plane
 * (i % sh) * sw + j % sw at row i / sh, column j / sw. A tap at padded offset (di, dj) then reads,
 * for output (oy, ox), plane (di % sh, dj % sw) at (oy + di / sh, ox + dj / sw): every stride turns
 * into a stride-1 read, and the flat index oy * Wq + ox + (tap's constant) is linear in the
 * output's "wide" index oy * Wq + ox (see dwTaps). The border is zeroed once per call; each
 * channel rewrites the same interior.
 */
function fillPhasePlanes(src: usize, s: usize, H: i32, W: i32, padTop: i32, padLeft: i32, sh: i32, sw: i32, Hq: i32, Wq: i32): void {
  const plane = <usize>Hq * <usize>Wq << 2;
  for (let iy = 0; iy < H; iy++) {
    const row = src + (<usize>iy * <usize>W << 2);
    const i = iy + padTop;
    const rowPlanes = s + <usize>((i % sh) * sw) * plane + (<usize>(i / sh) * <usize>Wq << 2);
    if (sw == 1) {
      copyFloats(rowPlanes + (<usize>padLeft << 2), row, W);
    } else if (sw == 2) {
      const evens = rowPlanes + <usize>(padLeft & 1) * plane + (<usize>(padLeft >> 1) << 2);
      const odds = rowPlanes + <usize>((padLeft + 1) & 1) * plane + (<usize>((padLeft + 1) >> 1) << 2);
      let ix = 0;
      for (; ix + 8 <= W; ix += 8) {
        const a = v128.load(row + (<usize>ix << 2));
        const b = v128.load(row + (<usize>ix << 2), 16);
        v128.store(evens + (<usize>(ix >> 1) << 2), v128.shuffle<f32>(a, b, 0, 2, 4, 6));
        v128.store(odds + (<usize>(ix >> 1) << 2), v128.shuffle<f32>(a, b, 1, 3, 5, 7));
      }
      for (; ix < W; ix++) {
        store<f32>(((ix & 1) == 0 ? evens : odds) + (<usize>(ix >> 1) << 2), load<f32>(row + (<usize>ix << 2)));
      }
    } else {
      for (let ix = 0; ix < W; ix++) {
        const j = ix + padLeft;
        store<f32>(rowPlanes + <usize>(j % sw) * plane + (<usize>(j / sw) << 2), load<f32>(row + (<usize>ix << 2)));
      }
    }
  }
}

/**
 * fillPhasePlanes for a stride-2 channel whose taps read some of the 4 phase planes only (bit p
 * of `read` for plane p): the rows and column phases no tap reads are skipped. A separate
 * function, so that the full fill of dense and stride-1 channels runs without its branches.
 */
function fillSomePhasePlanes(src: usize, s: usize, H: i32, W: i32, padTop: i32, padLeft: i32, Hq: i32, Wq: i32, read: i32): void {
  const plane = <usize>Hq * <usize>Wq << 2;
  for (let iy = 0; iy < H; iy++) {
    const i = iy + padTop;
    const rowRead = (read >> ((i & 1) << 1)) & 3;
    if (rowRead == 0) continue;
    const row = src + (<usize>iy * <usize>W << 2);
    const rowPlanes = s + <usize>((i & 1) << 1) * plane + (<usize>(i >> 1) * <usize>Wq << 2);
    const evens = rowPlanes + <usize>(padLeft & 1) * plane + (<usize>(padLeft >> 1) << 2);
    const odds = rowPlanes + <usize>((padLeft + 1) & 1) * plane + (<usize>((padLeft + 1) >> 1) << 2);
    const evensRead = (rowRead >> (padLeft & 1)) & 1;
    let ix = 0;
    if (rowRead == 3) {
      for (; ix + 8 <= W; ix += 8) {
        const a = v128.load(row + (<usize>ix << 2));
        const b = v128.load(row + (<usize>ix << 2), 16);
        v128.store(evens + (<usize>(ix >> 1) << 2), v128.shuffle<f32>(a, b, 0, 2, 4, 6));
        v128.store(odds + (<usize>(ix >> 1) << 2), v128.shuffle<f32>(a, b, 1, 3, 5, 7));
      }
    } else if (evensRead != 0) {
      for (; ix + 8 <= W; ix += 8) v128.store(evens + (<usize>(ix >> 1) << 2), v128.shuffle<f32>(v128.load(row + (<usize>ix << 2)), v128.load(row + (<usize>ix << 2), 16), 0, 2, 4, 6));
    } else {
      for (; ix + 8 <= W; ix += 8) v128.store(odds + (<usize>(ix >> 1) << 2), v128.shuffle<f32>(v128.load(row + (<usize>ix << 2)), v128.load(row + (<usize>ix << 2), 16), 1, 3, 5, 7));
    }
    // The tail writes both phases: a plane no tap reads may hold anything.
    for (; ix < W; ix++) {
      store<f32>(((ix & 1) == 0 ? evens : odds) + (<usize>(ix >> 1) << 2), load<f32>(row + (<usize>ix << 2)));
    }
  }
}

/** Bytes per tap of the direct path's per-channel list (see directTaps). */
const DIRECT_TAP_BYTES: usize = 64;

/**
 * Floats dwTaps needs at `scratch`: the phase planes, plus slack for the last wide block's reads,
 * or for stride 1 the direct path's list of up to `taps` taps per channel if that is more.
 */
export function dwScratchFloats(sh: i32, sw: i32, Hq: i32, Wq: i32, Ho: i32, Wo: i32, taps: i32): i32 {
  const wide = (Ho * Wq + 15) & ~15;
  const padded = sh * sw * Hq * Wq + Wq + 64 + wide;
  const direct = taps * <i32>(DIRECT_TAP_BYTES >> 2);
  const flat = flatMaskFloats(Hq, Wq, Ho, Wo) + taps * <i32>(FLAT_TAP_BYTES >> 2);
  const most = padded > direct ? padded : direct;
  return most > flat ? most : flat;
}

/** Bytes per tap of the flat path's per-channel list (see flatTaps). */
const FLAT_TAP_BYTES: usize = 16;
/**
 * Floats the flat path may read past an input plane (padBottom * W + padRight at most): the
 * engine keeps READ_SLACK = 1024 bytes of memory past its last block (src/engine.ts), so the
 * plane at the top of memory is read, and masked, without a trap.
 */
const FLAT_MAX_OVERREAD: i32 = 240;

/**
 * The most taps per channel (over the whole layer, `maxTaps` of dwTaps) the flat path takes. Its
 * masked loads make each tap about 1.4x the phase planes' cost, while it saves their per-channel
 * copy: on MobileNetV2's and EfficientNet-B0's 14x14 and 7x7 maps it was the faster path up to
 * 8 taps, and slower for dense 3x3 and 5x5 layers (measured; a dense 5x5 at 7x7 took 1.26x as long).
 * Both paths add the same products in the same order (the masked lanes and the planes' padding
 * add zeros), so the choice changes no result.
 */
const FLAT_MAX_TAPS: i32 = 8;

/** Floats of the flat path's lane masks: 16 per block of 16 outputs and per tap position (dy, dx). */
function flatMaskFloats(Hq: i32, Wq: i32, Ho: i32, Wo: i32): i32 {
  return ((Ho * Wo + 15) >> 4) * (Hq - Ho + 1) * (Wq - Wo + 1) * 16;
}

/**
 * Whether a layer takes the flat path (when it keeps at most FLAT_MAX_TAPS taps per channel):
 * stride 1 with "same" padding (output and input of one size), rows too narrow for the direct
 * path (under 20 outputs: the 14x14 and 7x7 maps), at
 * least one block of 16 outputs, tap positions (dy, dx) at most 49 and the reads past a plane
 * within the engine's slack. Such a plane is read in place as one flat run of H * W values:
 * output q reads q + (dy - padTop) * W + dx - padLeft, through a lane mask that zeroes the
 * values outside the image (another row, another plane). The phase planes it replaces cost a
 * copy and a compaction per channel, several taps' worth on a 14x14 map.
 */
function flatPath(strideH: i32, strideW: i32, H: i32, W: i32, Ho: i32, Wo: i32, padTop: i32, padLeft: i32, Hq: i32, Wq: i32): bool {
  return strideH == 1 && strideW == 1 && Ho == H && Wo == W && Wo < 20 && Ho * Wo >= 16 &&
    (Hq - Ho + 1) * (Wq - Wo + 1) <= 49 && (Hq - H - padTop) * W + (Wq - W - padLeft) <= FLAT_MAX_OVERREAD;
}

/**
 * The flat path's masks at `masks`, for every block of 16 outputs (the last one starting at
 * P - 16, overlapping the one before) and tap position (dy, dx) of the padded window: lane l is
 * all ones where output q0 + l reads inside the image.
 */
function flatMasks(masks: usize, H: i32, W: i32, padTop: i32, padLeft: i32, DY: i32, DX: i32): void {
  const P = H * W;
  const blocks = (P + 15) >> 4;
  let at = masks;
  for (let block = 0; block < blocks; block++) {
    const q0 = block + 1 < blocks ? block << 4 : P - 16;
    for (let dy = 0; dy < DY; dy++) {
      for (let dx = 0; dx < DX; dx++) {
        for (let l = 0; l < 16; l++) {
          const q = q0 + l;
          const oy = q / W;
          const iy = oy + dy - padTop;
          const ix = q - oy * W + dx - padLeft;
          store<i32>(at + (<usize>l << 2), iy >= 0 && iy < H && ix >= 0 && ix < W ? -1 : 0);
        }
        at += 64;
      }
    }
  }
}

/**
 * One channel's list for the flat path at `list`, 16 bytes per tap: the input offset in floats
 * from an output's own index ((dy - padTop) * W + dx - padLeft), the weight, and the byte offset
 * of the tap position's masks within a block's. Returns the tap count.
 */
function flatTaps(list: usize, tapOffsets: usize, tapWeights: usize, first: i32, last: i32, W: i32, padTop: i32, padLeft: i32, Wq: i32, DX: i32): i32 {
  let count = 0;
  for (let t = first; t < last; t++) {
    const offset = load<i32>(tapOffsets + (<usize>t << 2));
    const dy = tapRow(offset, Wq);
    const dx = offset - dy * Wq;
    const e = list + <usize>count * FLAT_TAP_BYTES;
    store<i32>(e, (dy - padTop) * W + dx - padLeft);
    store<f32>(e, load<f32>(tapWeights + (<usize>t << 2)), 4);
    store<i32>(e, (dy * DX + dx) << 6, 8);
    count++;
  }
  return count;
}

/** One channel of the flat path: blocks of 16 outputs along the flattened plane (see flatPath). */
function flatChannel(x: usize, out: usize, list: usize, count: i32, masks: usize, maskStride: usize, P: i32, b: v128, code: i32, av: v128, bv: v128): void {
  if (code == 0) flatBlocksNone(x, out, list, count, masks, maskStride, P, b, av, bv);
  else if (code == 2) flatBlocksClip(x, out, list, count, masks, maskStride, P, b, av, bv);
  else if (code == 1) flatBlocksRelu(x, out, list, count, masks, maskStride, P, b, av, bv);
  else flatBlocks(x, out, list, count, masks, maskStride, P, b, code, av, bv);
}

function flatBlocksNone(x: usize, out: usize, list: usize, count: i32, masks: usize, maskStride: usize, P: i32, b: v128, av: v128, bv: v128): void {
  flatBlocks(x, out, list, count, masks, maskStride, P, b, 0, av, bv);
}

function flatBlocksRelu(x: usize, out: usize, list: usize, count: i32, masks: usize, maskStride: usize, P: i32, b: v128, av: v128, bv: v128): void {
  flatBlocks(x, out, list, count, masks, maskStride, P, b, 1, av, bv);
}

function flatBlocksClip(x: usize, out: usize, list: usize, count: i32, masks: usize, maskStride: usize, P: i32, b: v128, av: v128, bv: v128): void {
  flatBlocks(x, out, list, count, masks, maskStride, P, b, 2, av, bv);
}

// @ts-ignore: decorator
@inline function flatBlocks(x: usize, out: usize, list: usize, count: i32, masks: usize, maskStride: usize, P: i32, b: v128, code: i32, av: v128, bv: v128): void {
  const blocks = (P + 15) >> 4;
  let m = masks;
  for (let block = 0; block < blocks; block++) {
    const q0 = block + 1 < blocks ? block << 4 : P - 16;
    const base = x + (<usize>q0 << 2);
    let a0 = b, a1 = b, a2 = b, a3 = b;
    for (let t = 0; t < count; t++) {
      const e = list + <usize>t * FLAT_TAP_BYTES;
      const wv = v128.load32_splat(e, 4);
      const p = base + (<usize>load<i32>(e) << 2);
      const k = m + <usize>load<i32>(e, 8);
      a0 = madd(wv, v128.and(v128.load(p), v128.load(k)), a0);
      a1 = madd(wv, v128.and(v128.load(p, 16), v128.load(k, 16)), a1);
      a2 = madd(wv, v128.and(v128.load(p, 32), v128.load(k, 32)), a2);
      a3 = madd(wv, v128.and(v128.load(p, 48), v128.load(k, 48)), a3);
    }
    const o = out + (<usize>q0 << 2);
    store16(o, a0, a1, a2, a3, code, av, bv);
    m += maskStride;
  }
}

/**
 * Whether a layer takes the direct path, which reads the input plane in place: stride 1, pads of
 * at most 4 (only an edge block's first or last 4 outputs can then read outside the row), and
 * rows of 20 outputs or more (the two 16-wide edge blocks, each at least 4 columns from the
 * other edge). Narrower rows stay on the phase planes: at 14 wide every block would be an edge
 * block, and from 4 kept taps on the masks cost more there than the copy they save (measured).
 */
function directPath(strideH: i32, strideW: i32, W: i32, Wo: i32, padLeft: i32, Wq: i32): bool {
  return strideH == 1 && strideW == 1 && padLeft <= 4 && Wq - W - padLeft <= 4 && Wo >= 20;
}

/**
 * Depth-wise conv over per-channel tap lists: dense (every tap) and DEPrune-sparse (kept taps
 * only) are the same kernel with different lists, so a pruned channel's work is its kept count.
 * For plane n*C + c: taps `tapStart[c]` .. `tapStart[c + 1]` of `tapOffsets` (i32 offsets in
 * floats into the phase planes, see fillPhasePlanes) and `tapWeights` (f32).
 *
 * Stride 1 with small pads (most large layers) reads the input plane in place (directChannel):
 * no copy, and outputs stored at the exact width. Other layers go through the phase planes, and
 * their outputs are computed on "wide" rows of Wq columns (the phase planes' width), flattened:
 * the wide index q = oy * Wq + ox reads q + offset for every tap.
 */
export function dwTaps(x: usize, y: usize, tapOffsets: usize, tapWeights: usize, tapStart: usize, bias: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32, Ho: i32, Wo: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, Hq: i32, Wq: i32, maxTaps: i32, code: i32, alpha: f32, beta: f32): void {
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(beta);
  const inPlane = <usize>H * <usize>W << 2;
  const outPlane = <usize>Ho * <usize>Wo << 2;
  if (maxTaps <= FLAT_MAX_TAPS && flatPath(strideH, strideW, H, W, Ho, Wo, padTop, padLeft, Hq, Wq)) {
    const DY = Hq - Ho + 1;
    const DX = Wq - Wo + 1;
    flatMasks(scratch, H, W, padTop, padLeft, DY, DX);
    const list = scratch + (<usize>flatMaskFloats(Hq, Wq, Ho, Wo) << 2);
    const maskStride = <usize>(DY * DX) << 6;
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const index = <usize>n * <usize>C + <usize>c;
        const first = load<i32>(tapStart + (<usize>c << 2));
        const last = load<i32>(tapStart + (<usize>c << 2), 4);
        const count = flatTaps(list, tapOffsets, tapWeights, first, last, W, padTop, padLeft, Wq, DX);
        flatChannel(x + index * inPlane, y + index * outPlane, list, count, scratch, maskStride, Ho * Wo, v128.load32_splat(bias + (<usize>c << 2)), code, av, bv);
      }
    }
    return;
  }
  if (directPath(strideH, strideW, W, Wo, padLeft, Wq)) {
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const index = <usize>n * <usize>C + <usize>c;
        const first = load<i32>(tapStart + (<usize>c << 2));
        const last = load<i32>(tapStart + (<usize>c << 2), 4);
        const count = directTaps(scratch, tapOffsets, tapWeights, first, last, W, Wo, padTop, padLeft, Wq);
        directChannel(x + index * inPlane, y + index * outPlane, scratch, count, H, W, Ho, Wo, v128.load32_splat(bias + (<usize>c << 2)), code, av, bv);
      }
    }
    return;
  }
  // The common epilogues as constants (see directChannel).
  if (code == 0) dwPlanesNone(x, y, tapOffsets, tapWeights, tapStart, bias, scratch, N, C, H, W, Ho, Wo, strideH, strideW, padTop, padLeft, Hq, Wq, alpha, beta);
  else if (code == 2) dwPlanesClip(x, y, tapOffsets, tapWeights, tapStart, bias, scratch, N, C, H, W, Ho, Wo, strideH, strideW, padTop, padLeft, Hq, Wq, alpha, beta);
  else if (code == 1) dwPlanesRelu(x, y, tapOffsets, tapWeights, tapStart, bias, scratch, N, C, H, W, Ho, Wo, strideH, strideW, padTop, padLeft, Hq, Wq, alpha, beta);
  else dwPlanes(x, y, tapOffsets, tapWeights, tapStart, bias, scratch, N, C, H, W, Ho, Wo, strideH, strideW, padTop, padLeft, Hq, Wq, code, alpha, beta);
}

function dwPlanesNone(x: usize, y: usize, tapOffsets: usize, tapWeights: usize, tapStart: usize, bias: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32, Ho: i32, Wo: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, Hq: i32, Wq: i32, alpha: f32, beta: f32): void {
  dwPlanes(x, y, tapOffsets, tapWeights, tapStart, bias, scratch, N, C, H, W, Ho, Wo, strideH, strideW, padTop, padLeft, Hq, Wq, 0, alpha, beta);
}

function dwPlanesRelu(x: usize, y: usize, tapOffsets: usize, tapWeights: usize, tapStart: usize, bias: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32, Ho: i32, Wo: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, Hq: i32, Wq: i32, alpha: f32, beta: f32): void {
  dwPlanes(x, y, tapOffsets, tapWeights, tapStart, bias, scratch, N, C, H, W, Ho, Wo, strideH, strideW, padTop, padLeft, Hq, Wq, 1, alpha, beta);
}

function dwPlanesClip(x: usize, y: usize, tapOffsets: usize, tapWeights: usize, tapStart: usize, bias: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32, Ho: i32, Wo: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, Hq: i32, Wq: i32, alpha: f32, beta: f32): void {
  dwPlanes(x, y, tapOffsets, tapWeights, tapStart, bias, scratch, N, C, H, W, Ho, Wo, strideH, strideW, padTop, padLeft, Hq, Wq, 2, alpha, beta);
}

/**
 * dwTaps through the phase planes (every layer the direct path does not take). A stride-2 channel
 * fills only the planes its taps read. Inlined into a function per common activation code.
 */
// @ts-ignore: decorator
@inline function dwPlanes(x: usize, y: usize, tapOffsets: usize, tapWeights: usize, tapStart: usize, bias: usize, scratch: usize, N: i32, C: i32, H: i32, W: i32, Ho: i32, Wo: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, Hq: i32, Wq: i32, code: i32, alpha: f32, beta: f32): void {
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(beta);
  const inPlane = <usize>H * <usize>W << 2;
  const outPlane = <usize>Ho * <usize>Wo << 2;
  const planesBytes = <usize>(strideH * strideW) * <usize>Hq * <usize>Wq << 2;
  const wideCount = (Ho * Wq + 15) & ~15;
  // The wide outputs live after the planes and their slack.
  const wide = scratch + planesBytes + (<usize>(Wq + 64) << 2);
  memory.fill(scratch, 0, planesBytes + (<usize>(Wq + 64) << 2));
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const index = <usize>n * <usize>C + <usize>c;
      const read = strideH == 2 && strideW == 2 ? phasesRead(tapOffsets, load<i32>(tapStart + (<usize>c << 2)), load<i32>(tapStart + (<usize>c << 2), 4), Hq * Wq) : 15;
      if (read == 15) fillPhasePlanes(x + index * inPlane, scratch, H, W, padTop, padLeft, strideH, strideW, Hq, Wq);
      else fillSomePhasePlanes(x + index * inPlane, scratch, H, W, padTop, padLeft, Hq, Wq, read);
      // Read after the fill call, not kept across it (live across a call, they were spilled and
      // the loops below ran 4-6% slower).
      const first = load<i32>(tapStart + (<usize>c << 2));
      const last = load<i32>(tapStart + (<usize>c << 2), 4);
      const b = v128.load32_splat(bias + (<usize>c << 2));
      const out = y + index * outPlane;
      if (Wo >= 8) {
        // Rows of 8 or more outputs: blocks of 16 and 8 along each row, stored straight into the
        // output; a last partial block is the row's final 8 outputs again (recomputed, same values).
        for (let oy = 0; oy < Ho; oy++) {
          const inRow = scratch + (<usize>(oy * Wq) << 2);
          const outRow = out + (<usize>(oy * Wo) << 2);
          let ox = 0;
          for (; ox + 16 <= Wo; ox += 16) dwBlock16(inRow + (<usize>ox << 2), outRow + (<usize>ox << 2), tapOffsets, tapWeights, first, last, b, code, av, bv);
          if (ox + 8 <= Wo) {
            dwBlock8(inRow + (<usize>ox << 2), outRow + (<usize>ox << 2), tapOffsets, tapWeights, first, last, b, code, av, bv);
            ox += 8;
          }
          if (ox < Wo) dwBlock8(inRow + (<usize>(Wo - 8) << 2), outRow + (<usize>(Wo - 8) << 2), tapOffsets, tapWeights, first, last, b, code, av, bv);
        }
        continue;
      }
      // Short rows (7x7 maps and smaller): 16 outputs at a time along the flattened wide rows, then
      // the Wq - Wo extra columns of each row dropped when the rows are compacted into the output.
      for (let q = 0; q < wideCount; q += 16) dwBlock16(scratch + (<usize>q << 2), wide + (<usize>q << 2), tapOffsets, tapWeights, first, last, b, code, av, bv);
      for (let oy = 0; oy < Ho; oy++) copyFloats(out + (<usize>oy * <usize>Wo << 2), wide + (<usize>oy * <usize>Wq << 2), Wo);
    }
  }
}


/**
 * Bit p set when a tap of `first` .. `last` reads phase plane p of a stride-2 layer's 4: three
 * compares per tap, not a division, and done once all 4 are seen (a dense channel sees them within
 * its first 7 taps).
 */
function phasesRead(tapOffsets: usize, first: i32, last: i32, plane: i32): i32 {
  let read = 0;
  for (let t = first; t < last && read != 15; t++) {
    const offset = load<i32>(tapOffsets + (<usize>t << 2));
    read |= 1 << (<i32>(offset >= plane) + <i32>(offset >= plane << 1) + <i32>(offset >= plane * 3));
  }
  return read;
}

/**
 * The row of a tap's offset (row * Wq + column) in a stride-1 padded plane, by subtraction: an i32
 * division per tap costs more than the rest of a small channel's bookkeeping.
 */
// @ts-ignore: decorator
@inline function tapRow(offset: i32, Wq: i32): i32 {
  let row = 0;
  while (offset >= Wq) {
    offset -= Wq;
    row++;
  }
  return row;
}

/**
 * The direct path's list for one channel, at `list`, sorted by tap row (stably, so the sums keep
 * the tap order of row-sorted lists) so that the taps inside the image for any output row are one
 * run of it. Per tap, 64 bytes: the input offset in floats from the block's first output
 * ((dy - padTop) * W + dx - padLeft, i32), the weight, at 16 and 32 the lane masks of the row's
 * first 4 outputs and last 4 (all ones where the tap reads inside the row, zero where it reads the
 * previous or next row or past the plane), and at 48 the row delta dy - padTop.
 * Returns the tap count.
 */
function directTaps(list: usize, tapOffsets: usize, tapWeights: usize, first: i32, last: i32, W: i32, Wo: i32, padTop: i32, padLeft: i32, Wq: i32): i32 {
  const lanes = i32x4(0, 1, 2, 3);
  let count = 0;
  for (let t = first; t < last; t++) {
    const offset = load<i32>(tapOffsets + (<usize>t << 2));
    let dy = tapRow(offset, Wq);
    let dx = offset - dy * Wq;
    dy -= padTop;
    dx -= padLeft;
    // Insertion after the last tap of the same or an earlier row.
    let at = count;
    while (at > 0 && load<i32>(list + <usize>(at - 1) * DIRECT_TAP_BYTES, 48) > dy) {
      const from = list + <usize>(at - 1) * DIRECT_TAP_BYTES;
      v128.store(from + DIRECT_TAP_BYTES, v128.load(from));
      v128.store(from + DIRECT_TAP_BYTES, v128.load(from, 16), 16);
      v128.store(from + DIRECT_TAP_BYTES, v128.load(from, 32), 32);
      v128.store(from + DIRECT_TAP_BYTES, v128.load(from, 48), 48);
      at--;
    }
    const e = list + <usize>at * DIRECT_TAP_BYTES;
    store<i32>(e, dy * W + dx);
    store<f32>(e, load<f32>(tapWeights + (<usize>t << 2)), 4);
    // Lane l of the first 4 outputs reads column l + dx, of the last 4 column Wo - 4 + l + dx.
    v128.store(e, i32x4.ge_s(lanes, i32x4.splat(-dx)), 16);
    v128.store(e, i32x4.lt_s(lanes, i32x4.splat(W - (Wo - 4) - dx)), 32);
    store<i32>(e, dy, 48);
    count++;
  }
  return count;
}

/**
 * One channel of the direct path: output row oy runs the taps whose input row is inside the image
 * (zero padding adds nothing), over a left and a right edge block whose first or last 4 outputs
 * go through the tap's lane masks, and plain blocks between them, all reading the input rows in
 * place. A masked load may start up to 4 floats before the plane or end up to 4 past it (the
 * engine keeps memory past its last block for that, READ_SLACK in src/engine.ts); the masks
 * zero those lanes, whatever they hold.
 */
function directChannel(x: usize, out: usize, list: usize, count: i32, H: i32, W: i32, Ho: i32, Wo: i32, b: v128, code: i32, av: v128, bv: v128): void {
  // The common epilogues as constants, so that `activate` folds to its one case instead of
  // testing the code on every 4 outputs: that test was half of a 0-tap 56x56 layer's time.
  if (code == 0) directRowsNone(x, out, list, count, H, W, Ho, Wo, b, av, bv);
  else if (code == 2) directRowsClip(x, out, list, count, H, W, Ho, Wo, b, av, bv);
  else if (code == 1) directRowsRelu(x, out, list, count, H, W, Ho, Wo, b, av, bv);
  else directRows(x, out, list, count, H, W, Ho, Wo, b, code, av, bv);
}

function directRowsNone(x: usize, out: usize, list: usize, count: i32, H: i32, W: i32, Ho: i32, Wo: i32, b: v128, av: v128, bv: v128): void {
  directRows(x, out, list, count, H, W, Ho, Wo, b, 0, av, bv);
}

function directRowsRelu(x: usize, out: usize, list: usize, count: i32, H: i32, W: i32, Ho: i32, Wo: i32, b: v128, av: v128, bv: v128): void {
  directRows(x, out, list, count, H, W, Ho, Wo, b, 1, av, bv);
}

function directRowsClip(x: usize, out: usize, list: usize, count: i32, H: i32, W: i32, Ho: i32, Wo: i32, b: v128, av: v128, bv: v128): void {
  directRows(x, out, list, count, H, W, Ho, Wo, b, 2, av, bv);
}

// @ts-ignore: decorator
@inline function directRows(x: usize, out: usize, list: usize, count: i32, H: i32, W: i32, Ho: i32, Wo: i32, b: v128, code: i32, av: v128, bv: v128): void {
  const top = count > 0 ? load<i32>(list, 48) : 0;
  const bottom = count > 0 ? load<i32>(list + <usize>(count - 1) * DIRECT_TAP_BYTES, 48) : 0;
  const rightBytes = <usize>(Wo - 16) << 2;
  for (let oy = 0; oy < Ho; oy++) {
    let lo = 0;
    let hi = count;
    if (oy + top < 0 || oy + bottom >= H) {
      while (lo < count && oy + load<i32>(list + <usize>lo * DIRECT_TAP_BYTES, 48) < 0) lo++;
      hi = lo;
      while (hi < count && oy + load<i32>(list + <usize>hi * DIRECT_TAP_BYTES, 48) < H) hi++;
    }
    const inRow = x + (<usize>(oy * W) << 2);
    const outRow = out + (<usize>(oy * Wo) << 2);
    directLeft16(inRow, outRow, list, lo, hi, b, code, av, bv);
    const end = Wo - 16;
    let ox = 16;
    for (; ox + 16 <= end; ox += 16) directBlock16(inRow + (<usize>ox << 2), outRow + (<usize>ox << 2), list, lo, hi, b, code, av, bv);
    if (ox + 8 <= end) {
      directBlock8(inRow + (<usize>ox << 2), outRow + (<usize>ox << 2), list, lo, hi, b, code, av, bv);
      ox += 8;
    }
    // A last partial block: the 8 outputs before the right edge block again (same values).
    if (ox < end) directBlock8(inRow + (<usize>(end - 8) << 2), outRow + (<usize>(end - 8) << 2), list, lo, hi, b, code, av, bv);
    directRight16(inRow + rightBytes, outRow + rightBytes, list, lo, hi, b, code, av, bv);
  }
}

/** Four accumulators of 16 consecutive outputs, through the epilogue, stored at `o`. */
// @ts-ignore: decorator
@inline function store16(o: usize, a0: v128, a1: v128, a2: v128, a3: v128, code: i32, av: v128, bv: v128): void {
  v128.store(o, activate(a0, code, av, bv));
  v128.store(o, activate(a1, code, av, bv), 16);
  v128.store(o, activate(a2, code, av, bv), 32);
  v128.store(o, activate(a3, code, av, bv), 48);
}

/** 16 outputs of the direct path, every tap inside the row (see directTaps for the list). */
// @ts-ignore: decorator
@inline function directBlock16(base: usize, o: usize, list: usize, lo: i32, hi: i32, b: v128, code: i32, av: v128, bv: v128): void {
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let t = lo; t < hi; t++) {
    const e = list + <usize>t * DIRECT_TAP_BYTES;
    const wv = v128.load32_splat(e, 4);
    const p = base + (<usize>load<i32>(e) << 2);
    a0 = madd(wv, v128.load(p), a0);
    a1 = madd(wv, v128.load(p, 16), a1);
    a2 = madd(wv, v128.load(p, 32), a2);
    a3 = madd(wv, v128.load(p, 48), a3);
  }
  store16(o, a0, a1, a2, a3, code, av, bv);
}

/** 8 outputs of the direct path, every tap inside the row. */
// @ts-ignore: decorator
@inline function directBlock8(base: usize, o: usize, list: usize, lo: i32, hi: i32, b: v128, code: i32, av: v128, bv: v128): void {
  let a0 = b, a1 = b;
  for (let t = lo; t < hi; t++) {
    const e = list + <usize>t * DIRECT_TAP_BYTES;
    const wv = v128.load32_splat(e, 4);
    const p = base + (<usize>load<i32>(e) << 2);
    a0 = madd(wv, v128.load(p), a0);
    a1 = madd(wv, v128.load(p, 16), a1);
  }
  v128.store(o, activate(a0, code, av, bv));
  v128.store(o, activate(a1, code, av, bv), 16);
}

/** The row's first 16 outputs: the first 4 through the left masks. */
// @ts-ignore: decorator
@inline function directLeft16(base: usize, o: usize, list: usize, lo: i32, hi: i32, b: v128, code: i32, av: v128, bv: v128): void {
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let t = lo; t < hi; t++) {
    const e = list + <usize>t * DIRECT_TAP_BYTES;
    const wv = v128.load32_splat(e, 4);
    const p = base + (<usize>load<i32>(e) << 2);
    a0 = madd(wv, v128.and(v128.load(p), v128.load(e, 16)), a0);
    a1 = madd(wv, v128.load(p, 16), a1);
    a2 = madd(wv, v128.load(p, 32), a2);
    a3 = madd(wv, v128.load(p, 48), a3);
  }
  store16(o, a0, a1, a2, a3, code, av, bv);
}

/** The row's last 16 outputs: the last 4 through the right masks. */
// @ts-ignore: decorator
@inline function directRight16(base: usize, o: usize, list: usize, lo: i32, hi: i32, b: v128, code: i32, av: v128, bv: v128): void {
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let t = lo; t < hi; t++) {
    const e = list + <usize>t * DIRECT_TAP_BYTES;
    const wv = v128.load32_splat(e, 4);
    const p = base + (<usize>load<i32>(e) << 2);
    a0 = madd(wv, v128.load(p), a0);
    a1 = madd(wv, v128.load(p, 16), a1);
    a2 = madd(wv, v128.load(p, 32), a2);
    a3 = madd(wv, v128.and(v128.load(p, 48), v128.load(e, 32)), a3);
  }
  store16(o, a0, a1, a2, a3, code, av, bv);
}

/** 16 outputs of one DW channel: the taps `first` .. `last` over the planes at `base`, four accumulators. */
// @ts-ignore: decorator
@inline function dwBlock16(base: usize, o: usize, tapOffsets: usize, tapWeights: usize, first: i32, last: i32, b: v128, code: i32, av: v128, bv: v128): void {
  let a0 = b, a1 = b, a2 = b, a3 = b;
  for (let t = first; t < last; t++) {
    const wv = v128.load32_splat(tapWeights + (<usize>t << 2));
    const p = base + (<usize>load<i32>(tapOffsets + (<usize>t << 2)) << 2);
    a0 = madd(wv, v128.load(p), a0);
    a1 = madd(wv, v128.load(p, 16), a1);
    a2 = madd(wv, v128.load(p, 32), a2);
    a3 = madd(wv, v128.load(p, 48), a3);
  }
  store16(o, a0, a1, a2, a3, code, av, bv);
}

/** 8 outputs of one DW channel (two accumulators). */
// @ts-ignore: decorator
@inline function dwBlock8(base: usize, o: usize, tapOffsets: usize, tapWeights: usize, first: i32, last: i32, b: v128, code: i32, av: v128, bv: v128): void {
  let a0 = b, a1 = b;
  for (let t = first; t < last; t++) {
    const wv = v128.load32_splat(tapWeights + (<usize>t << 2));
    const p = base + (<usize>load<i32>(tapOffsets + (<usize>t << 2)) << 2);
    a0 = madd(wv, v128.load(p), a0);
    a1 = madd(wv, v128.load(p, 16), a1);
  }
  v128.store(o, activate(a0, code, av, bv));
  v128.store(o, activate(a1, code, av, bv), 16);
}

/**
 * im2col of one image's channel group for a general conv, for output rows [oy0, oy1): rows
 * (c, ky, kx) of the group's `Cg` channels starting at channel `c0`, columns those rows' output
 * pixels; taps outside the image read 0. `cols` is [Cg * kh * kw, (oy1 - oy0) * Wo]. The GEMM
 * then runs on gemmPanels. A band of rows at a time keeps `cols` small whatever the image size.
 */
export function im2col(x: usize, cols: usize, c0: i32, Cg: i32, H: i32, W: i32, kh: i32, kw: i32, oy0: i32, oy1: i32, Wo: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, dilationH: i32, dilationW: i32): void {
  let out = cols;
  for (let c = 0; c < Cg; c++) {
    const plane = x + (<usize>(c0 + c) * <usize>H * <usize>W << 2);
    for (let ky = 0; ky < kh; ky++) {
      for (let kx = 0; kx < kw; kx++) {
        for (let oy = oy0; oy < oy1; oy++) {
          const iy = oy * strideH - padTop + ky * dilationH;
          if (iy < 0 || iy >= H) {
            memory.fill(out, 0, <usize>Wo << 2);
            out += <usize>Wo << 2;
            continue;
          }
          const row = plane + (<usize>iy * <usize>W << 2);
          const ix0 = kx * dilationW - padLeft;
          if (strideW == 1 && ix0 >= 0 && ix0 + Wo <= W) {
            memory.copy(out, row + (<usize>ix0 << 2), <usize>Wo << 2);
            out += <usize>Wo << 2;
            continue;
          }
          for (let ox = 0; ox < Wo; ox++) {
            const ix = ox * strideW + ix0;
            store<f32>(out, ix >= 0 && ix < W ? load<f32>(row + (<usize>ix << 2)) : 0);
            out += 4;
          }
        }
      }
    }
  }
}

/**
 * dst[c * rows + r] = src[r * cols + c]: a [rows, cols] matrix transposed, in 4 x 4 blocks
 * (four row loads, eight shuffles, four stores), the edges value by value. MatMul and Gemm run
 * transposed on the GEMM kernel (src/kernels/gemm.ts) and turn their result back with it.
 */
export function transpose2d(src: usize, dst: usize, rows: i32, cols: i32): void {
  const srcRow = <usize>cols << 2;
  const dstRow = <usize>rows << 2;
  let r = 0;
  for (; r + 4 <= rows; r += 4) {
    let c = 0;
    for (; c + 4 <= cols; c += 4) {
      const s = src + ((<usize>r * <usize>cols + <usize>c) << 2);
      const r0 = v128.load(s);
      const r1 = v128.load(s + srcRow);
      const r2 = v128.load(s + 2 * srcRow);
      const r3 = v128.load(s + 3 * srcRow);
      // Lanes (row, column): t0 = (0,0) (1,0) (0,1) (1,1), t1 = (0,2) (1,2) (0,3) (1,3), and rows 2, 3 alike.
      const t0 = i32x4.shuffle(r0, r1, 0, 4, 1, 5);
      const t1 = i32x4.shuffle(r0, r1, 2, 6, 3, 7);
      const t2 = i32x4.shuffle(r2, r3, 0, 4, 1, 5);
      const t3 = i32x4.shuffle(r2, r3, 2, 6, 3, 7);
      const d = dst + ((<usize>c * <usize>rows + <usize>r) << 2);
      v128.store(d, i32x4.shuffle(t0, t2, 0, 1, 4, 5));
      v128.store(d + dstRow, i32x4.shuffle(t0, t2, 2, 3, 6, 7));
      v128.store(d + 2 * dstRow, i32x4.shuffle(t1, t3, 0, 1, 4, 5));
      v128.store(d + 3 * dstRow, i32x4.shuffle(t1, t3, 2, 3, 6, 7));
    }
    for (; c < cols; c++) {
      for (let i = 0; i < 4; i++) store<f32>(dst + ((<usize>c * <usize>rows + <usize>(r + i)) << 2), load<f32>(src + ((<usize>(r + i) * <usize>cols + <usize>c) << 2)));
    }
  }
  for (; r < rows; r++) {
    for (let c = 0; c < cols; c++) store<f32>(dst + ((<usize>c * <usize>rows + <usize>r) << 2), load<f32>(src + ((<usize>r * <usize>cols + <usize>c) << 2)));
  }
}

// ---- element-wise --------------------------------------------------------------------------

/**
 * The binary operators run here, by the contract's BINARY_OPS codes: add 0, sub 1, mul 2, div 3,
 * max 5, min 6, prelu 7 (a where a >= 0, else a * slope b). The rest (pow, comparisons) stay on
 * the host.
 */
// @ts-ignore: decorator
@inline function binary4(op: i32, a: v128, b: v128): v128 {
  if (op == 0) return f32x4.add(a, b);
  if (op == 1) return f32x4.sub(a, b);
  if (op == 2) return f32x4.mul(a, b);
  if (op == 3) return f32x4.div(a, b);
  if (op == 5) return f32x4.max(a, b);
  if (op == 6) return f32x4.min(a, b);
  return v128.bitselect(a, f32x4.mul(a, b), f32x4.ge(a, f32x4.splat(0)));
}

// @ts-ignore: decorator
@inline function binary1(op: i32, a: f32, b: f32): f32 {
  if (op == 0) return a + b;
  if (op == 1) return a - b;
  if (op == 2) return a * b;
  if (op == 3) return a / b;
  if (op == 5) return a != a || b != b ? NaN : max(a, b);
  if (op == 6) return a != a || b != b ? NaN : min(a, b);
  return a >= 0 ? a : a * b;
}

/**
 * y = activation(a op b) over a broadcast collapsed to 4 axes [D0, D1, D2, D3] (the contract's
 * collapseBroadcast): element (i0, i1, i2, i3) of a input is at sum(i * stride), a stride 0 where
 * it is broadcast. The innermost axis runs four at a time: both operands full, or one of them a
 * value repeated along it (a channel's scale, a bias).
 */
export function binaryBroadcast(a: usize, b: usize, y: usize, D0: i32, D1: i32, D2: i32, D3: i32, sa0: i32, sa1: i32, sa2: i32, sa3: i32, sb0: i32, sb1: i32, sb2: i32, sb3: i32, op: i32, code: i32, alpha: f32, beta: f32): void {
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(beta);
  let out = y;
  for (let i0 = 0; i0 < D0; i0++) {
    for (let i1 = 0; i1 < D1; i1++) {
      for (let i2 = 0; i2 < D2; i2++) {
        const pa = a + (<usize>(i0 * sa0 + i1 * sa1 + i2 * sa2) << 2);
        const pb = b + (<usize>(i0 * sb0 + i1 * sb1 + i2 * sb2) << 2);
        let i3 = 0;
        if (sa3 == 1 && sb3 == 1) {
          for (; i3 + 4 <= D3; i3 += 4) v128.store(out + (<usize>i3 << 2), activate(binary4(op, v128.load(pa + (<usize>i3 << 2)), v128.load(pb + (<usize>i3 << 2))), code, av, bv));
        } else if (sa3 == 1 && sb3 == 0) {
          const vb = v128.load32_splat(pb);
          for (; i3 + 4 <= D3; i3 += 4) v128.store(out + (<usize>i3 << 2), activate(binary4(op, v128.load(pa + (<usize>i3 << 2)), vb), code, av, bv));
        } else if (sa3 == 0 && sb3 == 1) {
          const va = v128.load32_splat(pa);
          for (; i3 + 4 <= D3; i3 += 4) v128.store(out + (<usize>i3 << 2), activate(binary4(op, va, v128.load(pb + (<usize>i3 << 2))), code, av, bv));
        }
        for (; i3 < D3; i3++) {
          store<f32>(out + (<usize>i3 << 2), activate1(binary1(op, load<f32>(pa + (<usize>(i3 * sa3) << 2)), load<f32>(pb + (<usize>(i3 * sb3) << 2))), code, alpha, beta));
        }
        out += <usize>D3 << 2;
      }
    }
  }
}

/**
 * y = activation(op(x)) over n values, by the contract's UNARY_OPS codes run here: identity 0
 * (only the epilogue: a standalone Relu, HardSwish, Sigmoid ...), exp 1, sqrt 3, abs 4, neg 5,
 * reciprocal 6, floor 11, ceil 12. exp is computed lane by lane.
 */
export function unaryMap(x: usize, y: usize, n: i32, op: i32, code: i32, alpha: f32, beta: f32): void {
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(beta);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    let v = v128.load(x + (<usize>i << 2));
    if (op == 1) {
      // exp4 clamps its input; past float32's range the answer is +inf, below it (subnormal) 0.
      const e = exp4(v);
      v = v128.bitselect(f32x4.splat(Infinity), v128.bitselect(f32x4.splat(0), e, f32x4.lt(v, f32x4.splat(-87.0))), f32x4.gt(v, f32x4.splat(88.72283)));
    } else if (op == 3) v = f32x4.sqrt(v);
    else if (op == 4) v = f32x4.abs(v);
    else if (op == 5) v = f32x4.neg(v);
    else if (op == 6) v = f32x4.div(f32x4.splat(1), v);
    else if (op == 11) v = f32x4.floor(v);
    else if (op == 12) v = f32x4.ceil(v);
    v128.store(y + (<usize>i << 2), activate(v, code, av, bv));
  }
  for (; i < n; i++) {
    let v = load<f32>(x + (<usize>i << 2));
    if (op == 1) v = Mathf.exp(v);
    else if (op == 3) v = Mathf.sqrt(v);
    else if (op == 4) v = Mathf.abs(v);
    else if (op == 5) v = -v;
    else if (op == 6) v = 1 / v;
    else if (op == 11) v = Mathf.floor(v);
    else if (op == 12) v = Mathf.ceil(v);
    store<f32>(y + (<usize>i << 2), activate1(v, code, alpha, beta));
  }
}

/**
 * Softmax (or log-softmax) over the middle axis of x viewed as [outer, length, inner]. Rows are
 * contiguous when inner is 1 (the usual last-axis softmax); otherwise each (outer, inner) column
 * is walked with stride inner.
 */
export function softmaxAxis(x: usize, y: usize, outer: i32, length: i32, inner: i32, log: i32): void {
  if (inner == 1) {
    softmaxRows(x, y, outer, length, log);
    return;
  }
  const stride = <usize>inner << 2;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = (<usize>o * <usize>length * <usize>inner + <usize>j) << 2;
      let top: f32 = -Infinity;
      for (let k = 0; k < length; k++) top = max(top, load<f32>(x + base + <usize>k * stride));
      let sum: f64 = 0;
      for (let k = 0; k < length; k++) {
        const e = Mathf.exp(load<f32>(x + base + <usize>k * stride) - top);
        store<f32>(y + base + <usize>k * stride, e);
        sum += <f64>e;
      }
      if (log != 0) {
        const shift = top + <f32>Math.log(sum);
        for (let k = 0; k < length; k++) store<f32>(y + base + <usize>k * stride, load<f32>(x + base + <usize>k * stride) - shift);
      } else {
        const scale = <f32>(1.0 / sum);
        for (let k = 0; k < length; k++) store<f32>(y + base + <usize>k * stride, load<f32>(y + base + <usize>k * stride) * scale);
      }
    }
  }
}

/**
 * Softmax over contiguous rows, four values at a time: the maximum, then e^(x - max) by exp4
 * (below e^-87 it is 0, as float32's exp gives) with the sum in float64 (two lanes per half),
 * then the scale. A classifier's or a recognizer's last layer (PP-OCRv4 rec: 40 rows of 6625)
 * took a millisecond with a scalar exp per value.
 */
function softmaxRows(x: usize, y: usize, rows: i32, length: i32, log: i32): void {
  const low = f32x4.splat(-87.0);
  const zero = f32x4.splat(0);
  for (let r = 0; r < rows; r++) {
    const px = x + ((<usize>r * <usize>length) << 2);
    const py = y + ((<usize>r * <usize>length) << 2);
    let k = 0;
    let topv = f32x4.splat(-Infinity);
    for (; k + 4 <= length; k += 4) topv = f32x4.max(topv, v128.load(px + (<usize>k << 2)));
    let top: f32 = max(max(f32x4.extract_lane(topv, 0), f32x4.extract_lane(topv, 1)), max(f32x4.extract_lane(topv, 2), f32x4.extract_lane(topv, 3)));
    for (; k < length; k++) top = max(top, load<f32>(px + (<usize>k << 2)));
    const tv = f32x4.splat(top);
    let sumv = f64x2.splat(0);
    k = 0;
    for (; k + 4 <= length; k += 4) {
      const d = f32x4.sub(v128.load(px + (<usize>k << 2)), tv);
      const e = v128.bitselect(zero, exp4(d), f32x4.lt(d, low));
      v128.store(py + (<usize>k << 2), e);
      sumv = f64x2.add(sumv, f64x2.add(f64x2.promote_low_f32x4(e), f64x2.promote_low_f32x4(i32x4.shuffle(e, e, 2, 3, 0, 1))));
    }
    let sum: f64 = f64x2.extract_lane(sumv, 0) + f64x2.extract_lane(sumv, 1);
    for (; k < length; k++) {
      const e = Mathf.exp(load<f32>(px + (<usize>k << 2)) - top);
      store<f32>(py + (<usize>k << 2), e);
      sum += <f64>e;
    }
    if (log != 0) {
      const shift = f32x4.splat(top + <f32>Math.log(sum));
      k = 0;
      for (; k + 4 <= length; k += 4) v128.store(py + (<usize>k << 2), f32x4.sub(v128.load(px + (<usize>k << 2)), shift));
      for (; k < length; k++) store<f32>(py + (<usize>k << 2), load<f32>(px + (<usize>k << 2)) - f32x4.extract_lane(shift, 0));
    } else {
      const scale = f32x4.splat(<f32>(1.0 / sum));
      k = 0;
      for (; k + 4 <= length; k += 4) v128.store(py + (<usize>k << 2), f32x4.mul(v128.load(py + (<usize>k << 2)), scale));
      for (; k < length; k++) store<f32>(py + (<usize>k << 2), load<f32>(py + (<usize>k << 2)) * f32x4.extract_lane(scale, 0));
    }
  }
}

// ---- reductions ----------------------------------------------------------------------------

/**
 * One value per contiguous row of `length`: kind 0 sum, 1 mean, 2 max, 3 min, then the epilogue.
 * A global pool (a plane per row), ReduceMean over the last axis (a layer norm written out), the
 * mean of a squeeze-excitation block. Sums run in four lanes and are added at the end.
 */
/**
 * MaxPool / AveragePool over windows (not the whole plane), with the host kernel's semantics
 * (src/host/pool.ts, which also computes the tables): per output row and column, `tables` holds
 * the first and end tap inside the input and the count_include_pad extent (Int32: rowFirst,
 * rowEnd, rowPadded of Ho each, then colFirst, colEnd, colPadded of Wo each). Padding adds no
 * value; an average sums in float64 and divides by the taps inside (or, with countIncludePad, the
 * padded extent); a window with no tap inside gives -Infinity (max) or 0; NaN wins in max. Then
 * the epilogue. One output at a time: these are small layers (a stem's pool, a recognizer's
 * height pool) that took the host kernel 20-60 ns per output.
 */
export function pool2dWindows(x: usize, y: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, tables: usize, isMax: i32, countIncludePad: i32, code: i32, alpha: f32, beta: f32): void {
  if (isMax != 0) poolWindows(x, y, planes, H, W, Ho, Wo, strideH, strideW, dilationH, dilationW, padTop, padLeft, tables, true, false, code, alpha, beta);
  else if (countIncludePad != 0) poolWindows(x, y, planes, H, W, Ho, Wo, strideH, strideW, dilationH, dilationW, padTop, padLeft, tables, false, true, code, alpha, beta);
  else poolWindows(x, y, planes, H, W, Ho, Wo, strideH, strideW, dilationH, dilationW, padTop, padLeft, tables, false, false, code, alpha, beta);
}

/** pool2dWindows for one kind, inlined into each call above so that the kind is not tested per output. */
// @ts-ignore: decorator
@inline function poolWindows(x: usize, y: usize, planes: i32, H: i32, W: i32, Ho: i32, Wo: i32, strideH: i32, strideW: i32, dilationH: i32, dilationW: i32, padTop: i32, padLeft: i32, tables: usize, isMax: bool, countIncludePad: bool, code: i32, alpha: f32, beta: f32): void {
  const rowFirst = tables;
  const rowEnd = tables + (<usize>Ho << 2);
  const rowPadded = tables + (<usize>(2 * Ho) << 2);
  const colFirst = tables + (<usize>(3 * Ho) << 2);
  const colEnd = colFirst + (<usize>Wo << 2);
  const colPadded = colFirst + (<usize>(2 * Wo) << 2);
  const rowBytes = <usize>(dilationH * W) << 2;
  const tapBytes = <usize>dilationW << 2;
  let out = y;
  for (let plane = 0; plane < planes; plane++) {
    const base = x + ((<usize>plane * <usize>H * <usize>W) << 2);
    for (let oh = 0; oh < Ho; oh++) {
      const iFirst = load<i32>(rowFirst + (<usize>oh << 2));
      const iEnd = load<i32>(rowEnd + (<usize>oh << 2));
      const rowsIn = iEnd - iFirst;
      const firstRow = base + (<usize>((oh * strideH - padTop + iFirst * dilationH) * W) << 2);
      for (let ow = 0; ow < Wo; ow++) {
        const jFirst = load<i32>(colFirst + (<usize>ow << 2));
        const jEnd = load<i32>(colEnd + (<usize>ow << 2));
        const start = firstRow + (<usize>(ow * strideW - padLeft + jFirst * dilationW) << 2);
        const taps = jEnd - jFirst;
        let value: f32;
        if (isMax) {
          let best: f32 = -Infinity;
          let row = start;
          for (let i = 0; i < rowsIn; i++) {
            let p = row;
            for (let j = 0; j < taps; j++) {
              const v = load<f32>(p);
              if (v > best || v != v) best = v;
              p += tapBytes;
            }
            row += rowBytes;
          }
          value = best;
        } else {
          let sum: f64 = 0;
          let row = start;
          for (let i = 0; i < rowsIn; i++) {
            let p = row;
            for (let j = 0; j < taps; j++) {
              sum += <f64>load<f32>(p);
              p += tapBytes;
            }
            row += rowBytes;
          }
          const inside = rowsIn * taps;
          const count = countIncludePad ? load<i32>(rowPadded + (<usize>oh << 2)) * load<i32>(colPadded + (<usize>ow << 2)) : inside;
          value = inside > 0 && count > 0 ? <f32>(sum / <f64>count) : 0;
        }
        store<f32>(out, activate1(value, code, alpha, beta));
        out += 4;
      }
    }
  }
}

export function reduceRows(x: usize, y: usize, rows: i32, length: i32, kind: i32, code: i32, alpha: f32, beta: f32): void {
  for (let r = 0; r < rows; r++) {
    const row = x + (<usize>r * <usize>length << 2);
    let value: f32;
    if (kind <= 1) {
      let acc = f32x4.splat(0);
      let i = 0;
      for (; i + 4 <= length; i += 4) acc = f32x4.add(acc, v128.load(row + (<usize>i << 2)));
      let sum = f32x4.extract_lane(acc, 0) + f32x4.extract_lane(acc, 1) + f32x4.extract_lane(acc, 2) + f32x4.extract_lane(acc, 3);
      for (; i < length; i++) sum += load<f32>(row + (<usize>i << 2));
      value = kind == 1 ? sum / <f32>length : sum;
    } else {
      let best: f32 = load<f32>(row);
      for (let i = 1; i < length; i++) {
        const v = load<f32>(row + (<usize>i << 2));
        // NaN wins, as in the host kernels.
        if (v != v || best != best) best = NaN;
        else best = kind == 2 ? max(best, v) : min(best, v);
      }
      value = best;
    }
    store<f32>(y + (<usize>r << 2), activate1(value, code, alpha, beta));
  }
}

/**
 * The column-sparse GEMM of a PCP layer, reading each panel's kept input rows where they are:
 * like gemmPanels, but panel p runs over `offsets[rowStart[p] .. rowStart[p + 1])` only, with the
 * weights packed over the same list (16 bytes per kept row: the panel's 4 weights; `w` indexed by
 * the list position, so a share of panels passes `rowStart` moved to its first panel).
 * Each block of 8 pixels of X (all K rows, `xStride` floats apart) is first copied into `pack` (K
 * rows of 8 floats), so the scattered rows a panel reads are 32 bytes apart in L1 whatever X's row
 * stride; `offsets` holds each kept row's byte offset in `pack` (32 x its index). The copy is paid
 * once per block for every panel, not once per tile as gatherRows' block copy is: narrow row tiles
 * (4 rows, one panel) cost no more than wide ones. A last block of fewer than 8 pixels is packed
 * with zeros and its results stored lane by lane. `pack` holds K * 32 + 128 bytes.
 */
export function gemmGather(w: usize, offsets: usize, rowStart: usize, x: usize, pack: usize, bias: usize, y: usize, K: i32, M: i32, P: i32, xStride: i32, yStride: i32, code: i32, alpha: f32, beta: f32): void {
  const panels = (M + 3) >> 2;
  const av = f32x4.splat(alpha);
  const bv = f32x4.splat(beta);
  const xRow = <usize>xStride << 2;
  const yRow = <usize>yStride << 2;
  const zero = f32x4.splat(0);
  const tile = pack + (<usize>K << 5);
  for (let p0 = 0; p0 < P; p0 += 8) {
    const width = min(8, P - p0);
    let xp = x + (<usize>p0 << 2);
    let pp = pack;
    if (width == 8) {
      for (let k = 0; k < K; k++) {
        v128.store(pp, v128.load(xp));
        v128.store(pp, v128.load(xp, 16), 16);
        xp += xRow;
        pp += 32;
      }
    } else {
      for (let k = 0; k < K; k++) {
        v128.store(pp, zero);
        v128.store(pp, zero, 16);
        for (let lane = 0; lane < width; lane++) store<f32>(pp + (<usize>lane << 2), load<f32>(xp + (<usize>lane << 2)));
        xp += xRow;
        pp += 32;
      }
    }
    for (let panel = 0; panel < panels; panel++) {
      const first = load<i32>(rowStart + (<usize>panel << 2));
      const last = load<i32>(rowStart + (<usize>panel << 2), 4);
      let wp = w + (<usize>first << 4);
      let op = offsets + (<usize>first << 2);
      const bp = bias + (<usize>panel << 4);
      let a00 = v128.load32_splat(bp), a01 = a00;
      let a10 = v128.load32_splat(bp, 4), a11 = a10;
      let a20 = v128.load32_splat(bp, 8), a21 = a20;
      let a30 = v128.load32_splat(bp, 12), a31 = a30;
      for (let k = first; k < last; k++) {
        const xk = pack + <usize>load<i32>(op);
        const x0 = v128.load(xk);
        const x1 = v128.load(xk, 16);
        const w0 = v128.load32_splat(wp);
        const w1 = v128.load32_splat(wp, 4);
        const w2 = v128.load32_splat(wp, 8);
        const w3 = v128.load32_splat(wp, 12);
        a00 = madd(w0, x0, a00);
        a01 = madd(w0, x1, a01);
        a10 = madd(w1, x0, a10);
        a11 = madd(w1, x1, a11);
        a20 = madd(w2, x0, a20);
        a21 = madd(w2, x1, a21);
        a30 = madd(w3, x0, a30);
        a31 = madd(w3, x1, a31);
        op += 4;
        wp += 16;
      }
      const row = panel << 2;
      // A full block is stored in place; a short one goes through `tile` (4 rows of 8) first.
      const full = width == 8;
      storeTile(full ? y + ((<usize>row * <usize>yStride + <usize>p0) << 2) : tile, full ? yRow : 32, M - row, a00, a01, a10, a11, a20, a21, a30, a31, code, av, bv);
      if (!full) {
        const rows = min(4, M - row);
        for (let r = 0; r < rows; r++) {
          const dst = y + ((<usize>(row + r) * <usize>yStride + <usize>p0) << 2);
          for (let lane = 0; lane < width; lane++) store<f32>(dst + (<usize>lane << 2), load<f32>(tile + (<usize>r << 5) + (<usize>lane << 2)));
        }
      }
    }
  }
}

/**
 * Copies rows `rows[0..count)` (i32 indices) of X (rows `xStride` floats apart) to `dst`, one after
 * the other, `length` floats each: a PCP tile's kept input rows made contiguous, so its GEMM runs
 * as a dense one over them.
 */
export function gatherRows(x: usize, rows: usize, count: i32, length: i32, xStride: i32, dst: usize): void {
  for (let i = 0; i < count; i++) {
    const row = <usize>load<i32>(rows + (<usize>i << 2));
    copyFloats(dst + (<usize>(i * length) << 2), x + ((row * <usize>xStride) << 2), length);
  }
}

// ---- float64 second moments (calibration) ---------------------------------------------------

/**
 * Per block: T[i * bRows + j] = sum_p A[i, p] * B[j, p] in float64, for `blocks` blocks one after
 * the other (A: aRows rows, B: bRows rows, T: aRows x bRows, all packed). Rows hold `stride`
 * float64 values (even, zero-padded past the data), so every row starts 16-byte aligned and the
 * loop needs no tail. With `lower` (A and B the same matrix, a Gram matrix) only the tiles that
 * meet j <= i are computed; the entries above the diagonal are then not all written.
 *
 * This is calibration's hot loop (@deprune/calibrate: the input moments of every layer over every
 * sample): float64, as those sums are, with two lanes per vector and products of float32 values
 * (exact in float64), so it differs from a scalar float64 loop only by the order of the additions.
 */
export function crossProducts64(a: usize, b: usize, t: usize, aRows: i32, bRows: i32, stride: i32, blocks: i32, lower: i32): void {
  const rowBytes = <usize>stride << 3;
  for (let block = 0; block < blocks; block++) {
    const A = a + <usize>block * <usize>aRows * rowBytes;
    const B = b + <usize>block * <usize>bRows * rowBytes;
    const T = t + ((<usize>block * <usize>aRows * <usize>bRows) << 3);
    let i = 0;
    for (; i + 4 <= aRows; i += 4) {
      const jEnd = lower ? min(i + 4, bRows) : bRows;
      let j = 0;
      for (; j + 2 <= jEnd; j += 2) products4x2(A + <usize>i * rowBytes, B + <usize>j * rowBytes, rowBytes, T + ((<usize>i * <usize>bRows + <usize>j) << 3), <usize>bRows << 3);
      for (; j < jEnd; j++) {
        for (let r = 0; r < 4; r++) store<f64>(T + ((<usize>(i + r) * <usize>bRows + <usize>j) << 3), dot64(A + <usize>(i + r) * rowBytes, B + <usize>j * rowBytes, rowBytes));
      }
    }
    for (; i < aRows; i++) {
      const jEnd = lower ? min(i + 1, bRows) : bRows;
      for (let j = 0; j < jEnd; j++) store<f64>(T + ((<usize>i * <usize>bRows + <usize>j) << 3), dot64(A + <usize>i * rowBytes, B + <usize>j * rowBytes, rowBytes));
    }
  }
}

/** Sum of both lanes of a float64 pair. */
// @ts-ignore: decorator
@inline function lanes64(v: v128): f64 {
  return f64x2.extract_lane(v, 0) + f64x2.extract_lane(v, 1);
}

/** One dot product of two float64 rows (`rowBytes` long, a multiple of 16). */
// @ts-ignore: decorator
@inline function dot64(x: usize, y: usize, rowBytes: usize): f64 {
  let s = f64x2.splat(0);
  for (let p: usize = 0; p < rowBytes; p += 16) s = f64x2.add(s, f64x2.mul(v128.load(x + p), v128.load(y + p)));
  return lanes64(s);
}

/**
 * 4 rows of A against 2 rows of B: 8 dot products at once, each A and B vector loaded once for
 * 2 and 4 of them (8 accumulators and 6 operands fit the 16 vector registers of x86-64).
 */
// @ts-ignore: decorator
@inline function products4x2(a: usize, b: usize, rowBytes: usize, t: usize, tRowBytes: usize): void {
  const a1 = a + rowBytes;
  const a2 = a1 + rowBytes;
  const a3 = a2 + rowBytes;
  const b1 = b + rowBytes;
  let s00 = f64x2.splat(0), s01 = f64x2.splat(0), s10 = f64x2.splat(0), s11 = f64x2.splat(0);
  let s20 = f64x2.splat(0), s21 = f64x2.splat(0), s30 = f64x2.splat(0), s31 = f64x2.splat(0);
  for (let p: usize = 0; p < rowBytes; p += 16) {
    const y0 = v128.load(b + p);
    const y1 = v128.load(b1 + p);
    const x0 = v128.load(a + p);
    s00 = f64x2.add(s00, f64x2.mul(x0, y0));
    s01 = f64x2.add(s01, f64x2.mul(x0, y1));
    const x1 = v128.load(a1 + p);
    s10 = f64x2.add(s10, f64x2.mul(x1, y0));
    s11 = f64x2.add(s11, f64x2.mul(x1, y1));
    const x2 = v128.load(a2 + p);
    s20 = f64x2.add(s20, f64x2.mul(x2, y0));
    s21 = f64x2.add(s21, f64x2.mul(x2, y1));
    const x3 = v128.load(a3 + p);
    s30 = f64x2.add(s30, f64x2.mul(x3, y0));
    s31 = f64x2.add(s31, f64x2.mul(x3, y1));
  }
  store<f64>(t, lanes64(s00));
  store<f64>(t, lanes64(s01), 8);
  store<f64>(t + tRowBytes, lanes64(s10));
  store<f64>(t + tRowBytes, lanes64(s11), 8);
  store<f64>(t + 2 * tRowBytes, lanes64(s20));
  store<f64>(t + 2 * tRowBytes, lanes64(s21), 8);
  store<f64>(t + 3 * tRowBytes, lanes64(s30));
  store<f64>(t + 3 * tRowBytes, lanes64(s31), 8);
}

/**
 * Sampled depth-wise patches as float64 rows: for channel c (input plane `channelMap[c]`, or c
 * when `channelMap` is 0) and tap k = i * kw + j, row c * K + k holds, at column q, the input
 * value tap (i, j) multiplies at output pixel `phase + q * step` (row-major over outW columns), 0
 * in the padding. Rows are `stride` values long (zero past `count`), ready for crossProducts64.
 */
export function dwPatches64(x: usize, channelMap: usize, channels: i32, H: i32, W: i32, kh: i32, kw: i32, strideH: i32, strideW: i32, padTop: i32, padLeft: i32, dilationH: i32, dilationW: i32, outW: i32, step: i32, phase: i32, count: i32, stride: i32, out: usize): void {
  const K = kh * kw;
  const planeBytes = <usize>H * <usize>W << 2;
  // The sampled pixels advance by whole output rows and columns: no division per value.
  const stepRows = step / outW;
  const stepColumns = step - stepRows * outW;
  const firstRow = phase / outW;
  const firstColumn = phase - firstRow * outW;
  for (let c = 0; c < channels; c++) {
    const plane = channelMap == 0 ? <usize>c : <usize>load<i32>(channelMap + (<usize>c << 2));
    const src = x + plane * planeBytes;
    for (let k = 0; k < K; k++) {
      const dy = (k / kw) * dilationH - padTop;
      const dx = (k % kw) * dilationW - padLeft;
      const row = out + ((<usize>(c * K + k) * <usize>stride) << 3);
      let oy = firstRow;
      let ox = firstColumn;
      for (let q = 0; q < count; q++) {
        const y = oy * strideH + dy;
        const xx = ox * strideW + dx;
        let value: f64 = 0;
        if (<u32>y < <u32>H && <u32>xx < <u32>W) value = <f64>load<f32>(src + ((<usize>y * <usize>W + <usize>xx) << 2));
        store<f64>(row + (<usize>q << 3), value);
        oy += stepRows;
        ox += stepColumns;
        if (ox >= outW) {
          ox -= outW;
          oy++;
        }
      }
      for (let q = count; q < stride; q++) store<f64>(row + (<usize>q << 3), 0);
    }
  }
}

/** out[r] = the float64 sum of row r (`stride` values; the padding is zero). */
export function rowSums64(x: usize, rows: i32, stride: i32, out: usize): void {
  const rowBytes = <usize>stride << 3;
  for (let r = 0; r < rows; r++) {
    let s = f64x2.splat(0);
    const row = x + <usize>r * rowBytes;
    for (let p: usize = 0; p < rowBytes; p += 16) s = f64x2.add(s, v128.load(row + p));
    store<f64>(out + (<usize>r << 3), lanes64(s));
  }
}
