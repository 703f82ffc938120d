// Hopper GEMM (sm_90a): the same contract as gemm_bf16_mma (C = [C +] A·Bᵀ, A [M][paddedK] and
// B [N][paddedK] packed bf16, fp32 accumulation), on the warpgroup tensor-core instructions
// (wgmma), which read both operands straight from shared memory.
//
// 128×256 tiles, k in steps of 64; 2 warpgroups each own 64 rows × 256 columns (one m64n256k16
// wgmma per k16 step, 128 fp32 accumulators per thread). Tiles arrive through a 4-slot cp.async
// ring in the 128-byte-swizzled layout that the wgmma descriptors name, copied by the same
// threads that multiply: two tiles are in flight while a third is multiplied, with one block
// barrier per k step. Each thread's copy addresses are worked out once (OperandLoader): the
// copies are issued between the barrier and the wgmma, so their cost is on the critical path.
// JCuda 12.6 has no cuTensorMapEncodeTiled, so the bulk tensor copy engine (TMA) is not used.
// (Measured slower on the H100, see kernels-jcuda/NOTES.md: a warp-specialized variant with a
// loading warpgroup and mbarriers, three tiles in flight, 128×128 tiles with two blocks per SM,
// bulk copies of pre-blocked operands with and without cluster multicast.)
//
// Variants _mk and _mm read A, or both, "MN-major": as the untransposed packed copy of the
// product's transposed operand ([k][m] or [k][n], rows `ld` apart, k not padded), which wgmma
// takes with its transpose flag. A weight-gradient product dYᵀ·X then reads the copies of dY and
// X that the other products (or the ops that produced them) left in the pack cache, instead of
// transposed packs of both. The MN-major loads cost 8-15% of the rate on the H100 (swapping
// in K-major loads under the MN-major wgmma gives the K-major rate back; see NOTES.md), so
// dY·W reads a transposed pack of W with the K-major kernel instead of a variant _km.
#include "common.cuh"

using namespace calibra;

namespace {

constexpr int BM = 128;
constexpr int BN = 256;
constexpr int BK = 64;
constexpr int STAGES = 4;
constexpr int THREADS = 256;
constexpr int A_BYTES = BM * BK * 2;
constexpr int STAGE_BYTES = (BM + BN) * BK * 2;
constexpr int GROUP_M = 8;

// Shared-memory matrix descriptor of a k-major, 128-byte-swizzled bf16 tile: rows of 64 values
// (128 bytes), 8-row groups 1024 bytes apart (stride byte offset); the leading byte offset is
// unused by this layout. Bits: [0,14) address/16, [16,30) leading offset/16, [32,46) stride
// offset/16, [62,64) swizzle mode (1 = 128 bytes).
__device__ __forceinline__ uint64_t descriptor(uint32_t address) {
  return (uint64_t)((address & 0x3FFFF) >> 4) | ((uint64_t)1 << 16) |
         ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

// MN-major with the 128-byte swizzle: atoms of 64 MN values × 8 k rows (1 KB, k row r's 16-byte
// chunk c at chunk c ^ r), 8 k-row groups 1 KB apart (stride byte offset), 64-value MN atoms 8 KB
// apart (leading byte offset).
__device__ __forceinline__ uint64_t descriptor_mn(uint32_t address) {
  return (uint64_t)((address & 0x3FFFF) >> 4) | ((uint64_t)(8192 >> 4) << 16) |
         ((uint64_t)(1024 >> 4) << 32) | ((uint64_t)1 << 62);
}

// d (64×256 per warpgroup) += A (64×16 at descriptor a) · B (256×16 at descriptor b)ᵀ; TA and TB
// are wgmma's transpose flags: 1 for an MN-major operand.
template <int TA, int TB>
__device__ __forceinline__ void wgmma_m64n256k16(float (&d)[128], uint64_t a, uint64_t b) {
  asm volatile(
      "{\n"
      ".reg .pred accumulate;\n"
      "setp.ne.b32 accumulate, %130, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n256k16.f32.bf16.bf16 {"
      "%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15,"
      "%16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31,"
      "%32, %33, %34, %35, %36, %37, %38, %39, %40, %41, %42, %43, %44, %45, %46, %47,"
      "%48, %49, %50, %51, %52, %53, %54, %55, %56, %57, %58, %59, %60, %61, %62, %63,"
      "%64, %65, %66, %67, %68, %69, %70, %71, %72, %73, %74, %75, %76, %77, %78, %79,"
      "%80, %81, %82, %83, %84, %85, %86, %87, %88, %89, %90, %91, %92, %93, %94, %95,"
      "%96, %97, %98, %99, %100, %101, %102, %103, %104, %105, %106, %107, %108, %109, %110, %111,"
      "%112, %113, %114, %115, %116, %117, %118, %119, %120, %121, %122, %123, %124, %125, %126, %127"
      "}, %128, %129, accumulate, 1, 1, %131, %132;\n"
      "}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
          "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]),
          "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]),
          "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]),
          "+f"(d[32]), "+f"(d[33]), "+f"(d[34]), "+f"(d[35]), "+f"(d[36]), "+f"(d[37]), "+f"(d[38]), "+f"(d[39]),
          "+f"(d[40]), "+f"(d[41]), "+f"(d[42]), "+f"(d[43]), "+f"(d[44]), "+f"(d[45]), "+f"(d[46]), "+f"(d[47]),
          "+f"(d[48]), "+f"(d[49]), "+f"(d[50]), "+f"(d[51]), "+f"(d[52]), "+f"(d[53]), "+f"(d[54]), "+f"(d[55]),
          "+f"(d[56]), "+f"(d[57]), "+f"(d[58]), "+f"(d[59]), "+f"(d[60]), "+f"(d[61]), "+f"(d[62]), "+f"(d[63]),
          "+f"(d[64]), "+f"(d[65]), "+f"(d[66]), "+f"(d[67]), "+f"(d[68]), "+f"(d[69]), "+f"(d[70]), "+f"(d[71]),
          "+f"(d[72]), "+f"(d[73]), "+f"(d[74]), "+f"(d[75]), "+f"(d[76]), "+f"(d[77]), "+f"(d[78]), "+f"(d[79]),
          "+f"(d[80]), "+f"(d[81]), "+f"(d[82]), "+f"(d[83]), "+f"(d[84]), "+f"(d[85]), "+f"(d[86]), "+f"(d[87]),
          "+f"(d[88]), "+f"(d[89]), "+f"(d[90]), "+f"(d[91]), "+f"(d[92]), "+f"(d[93]), "+f"(d[94]), "+f"(d[95]),
          "+f"(d[96]), "+f"(d[97]), "+f"(d[98]), "+f"(d[99]), "+f"(d[100]), "+f"(d[101]), "+f"(d[102]), "+f"(d[103]),
          "+f"(d[104]), "+f"(d[105]), "+f"(d[106]), "+f"(d[107]), "+f"(d[108]), "+f"(d[109]), "+f"(d[110]), "+f"(d[111]),
          "+f"(d[112]), "+f"(d[113]), "+f"(d[114]), "+f"(d[115]), "+f"(d[116]), "+f"(d[117]), "+f"(d[118]), "+f"(d[119]),
          "+f"(d[120]), "+f"(d[121]), "+f"(d[122]), "+f"(d[123]), "+f"(d[124]), "+f"(d[125]), "+f"(d[126]), "+f"(d[127])
      : "l"(a), "l"(b), "r"(1), "n"(TA), "n"(TB));
}

// Keeps the compiler from moving accumulator accesses across the asynchronous wgmma window.
__device__ __forceinline__ void fence_accumulators(float (&d)[128]) {
#pragma unroll
  for (int i = 0; i < 128; i++) {
    asm volatile("" : "+f"(d[i])::"memory");
  }
}

// One operand's share of a stage for one thread: COUNT 16-byte cp.async copies. Their source
// addresses are worked out once, before the k loop; per k tile only one offset is added. (The
// loader that recomputed them from the thread index every k step held the kernel to 605-650
// TFLOP/s on the H100's large products; with addresses held in registers it runs at 680-745.)
template <int TILE, bool MN>
struct OperandLoader {
  static constexpr int COUNT = TILE * BK / 8 / THREADS;
  // MN-major: k rows between a thread's copies; destinations are whole 1 KB k groups apart.
  static constexpr int K_STEP = MN ? THREADS / (TILE / 8) : 0;
  static constexpr uint32_t SHARED_STEP = MN ? K_STEP / 8 * 1024 : 32 * 128;
  const __nv_bfloat16* source[COUNT];  // at k tile 0
  long long kTileStep;                 // elements from one k tile to the next
  uint32_t shared;                     // the first copy's byte offset in the operand's area
  uint32_t validMask;                  // bit i: copy i lies inside the matrix (rows or columns)
  int firstK;                          // MN-major: the first copy's k row within a tile

  // K-major [rows][ld] (TILE rows per block, ld = paddedK): thread t copies 16-byte column t % 8
  // of rows t / 8 + 32·i into the 128-byte-swizzled rows of descriptor().
  __device__ __forceinline__ void k_major(const __nv_bfloat16* X, int rows, int ld,
                                          int firstRow) {
    const int row = threadIdx.x / 8;
    const int column = threadIdx.x % 8;
    validMask = 0;
#pragma unroll
    for (int i = 0; i < COUNT; i++) {
      const bool valid = firstRow + row + 32 * i < rows;
      source[i] = X + (long long)(valid ? firstRow + row + 32 * i : 0) * ld + column * 8;
      if (valid) validMask |= 1u << i;
    }
    kTileStep = BK;
    shared = swizzle_128(row, column);
    firstK = 0;
  }

  // MN-major [K][ld] (TILE MN values per block): thread t copies MN chunk t % (TILE / 8) of k
  // rows t / (TILE / 8) + K_STEP·i into descriptor_mn's layout.
  __device__ __forceinline__ void mn_major(const __nv_bfloat16* X, int ld, int firstColumn) {
    constexpr int CHUNKS = TILE / 8;
    const int k = threadIdx.x / CHUNKS;
    const int chunk = threadIdx.x % CHUNKS;
    const bool inside = firstColumn + chunk * 8 < ld;
#pragma unroll
    for (int i = 0; i < COUNT; i++) {
      source[i] = X + (long long)(k + K_STEP * i) * ld + (inside ? firstColumn + chunk * 8 : 0);
    }
    kTileStep = (long long)BK * ld;
    shared = (chunk / 8) * 8192 + (k / 8) * 1024 + (k % 8) * 128 + (((chunk % 8) ^ (k % 8)) << 4);
    validMask = inside ? ~0u : 0u;
    firstK = k;
  }

  // Copies k tile kTile into `area`; outside the matrix (and, MN-major, past K: the copy has no
  // zero rows there) the destination is zero-filled.
  __device__ __forceinline__ void load(int kTile, int K, uint32_t area) const {
    const long long offset = kTile * kTileStep;
    const int kLeft = K - kTile * BK - firstK;
#pragma unroll
    for (int i = 0; i < COUNT; i++) {
      bool valid = (validMask >> i) & 1;
      if (MN) valid = valid && K_STEP * i < kLeft;
      cp_async_16(area + shared + i * SHARED_STEP, source[i] + (valid ? offset : 0), valid);
    }
  }
};

// Block → (row tile, column tile): consecutive blocks walk down GROUP_M row tiles before moving
// right, so the B tiles they share are still in L2.
__device__ __forceinline__ void tile_of_block(int M, int N, int& tileM, int& tileN) {
  const int tilesM = (M + BM - 1) / BM;
  const int tilesN = (N + BN - 1) / BN;
  const int perGroup = GROUP_M * tilesN;
  const int group = blockIdx.x / perGroup;
  const int firstM = group * GROUP_M;
  const int groupRows = min(tilesM - firstM, GROUP_M);
  tileM = firstM + (blockIdx.x % perGroup) % groupRows;
  tileN = (blockIdx.x % perGroup) / groupRows;
}

// Writes (or adds) a warpgroup's 64×256 accumulators. Layout: warp w of the warpgroup
// holds rows 16w … 16w+15; for column block j (8 wide) d[4j], d[4j+1] are row lane/4, columns
// 2·(lane%4) and +1, and d[4j+2], d[4j+3] the same columns 8 rows further down.
__device__ __forceinline__ void store_accumulators(const float (&d)[128], float* C, int M, int N,
                                                   int ldc, int accumulate, int tileM, int tileN,
                                                   int warpgroup) {
  const int lane = threadIdx.x % 32;
  const int rowBase = tileM * BM + warpgroup * 64 + ((threadIdx.x % 128) / 32) * 16 + lane / 4;
  const bool pairs = (ldc % 2) == 0;
#pragma unroll
  for (int half = 0; half < 2; half++) {
    const int row = rowBase + 8 * half;
    if (row >= M) continue;
    float* out = C + (long long)row * ldc;
#pragma unroll
    for (int j = 0; j < 32; j++) {
      const int col = tileN * BN + j * 8 + (lane % 4) * 2;
      float v0 = d[4 * j + 2 * half];
      float v1 = d[4 * j + 2 * half + 1];
      if (pairs && col + 1 < N) {
        float2* target = reinterpret_cast<float2*>(out + col);
        if (accumulate) {
          const float2 old = *target;
          v0 += old.x;
          v1 += old.y;
        }
        *target = make_float2(v0, v1);
      } else {
        if (col < N) out[col] = accumulate ? out[col] + v0 : v0;
        if (col + 1 < N) out[col + 1] = accumulate ? out[col + 1] + v1 : v1;
      }
    }
  }
}

// d += the 64×256 product of one stage: 4 wgmma k16 steps, committed as one group.
template <bool A_MN, bool B_MN>
__device__ __forceinline__ void multiply_stage(float (&d)[128], uint32_t stageA, uint32_t stageB,
                                               int warpgroup) {
  fence_accumulators(d);
  asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory");
#pragma unroll
  for (int ks = 0; ks < BK / 16; ks++) {
    const uint64_t a = A_MN ? descriptor_mn(stageA + warpgroup * 8192 + ks * 2048)
                            : descriptor(stageA + warpgroup * 64 * 128 + ks * 32);
    const uint64_t b = B_MN ? descriptor_mn(stageB + ks * 2048) : descriptor(stageB + ks * 32);
    wgmma_m64n256k16<A_MN, B_MN>(d, a, b);
  }
  asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory");
}

// The whole product: a 4-slot cp.async ring, two tiles in flight while a third is multiplied.
template <bool A_MN, bool B_MN>
__device__ __forceinline__ void gemm(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C,
                                     int M, int N, int K, int paddedK, int lda, int ldb, int ldc,
                                     int accumulate) {
  extern __shared__ __align__(1024) unsigned char shared[];
  // The swizzle pattern repeats every 1024 bytes and the descriptors assume tiles start on it.
  const uint32_t base = (shared_address(shared) + 1023) & ~1023u;

  int tileM;
  int tileN;
  tile_of_block(M, N, tileM, tileN);
  const int warpgroup = threadIdx.x / 128;
  OperandLoader<BM, A_MN> loadA;
  OperandLoader<BN, B_MN> loadB;
  if constexpr (A_MN) {
    loadA.mn_major(A, lda, tileM * BM);
  } else {
    loadA.k_major(A, M, lda, tileM * BM);
  }
  if constexpr (B_MN) {
    loadB.mn_major(B, ldb, tileN * BN);
  } else {
    loadB.k_major(B, N, ldb, tileN * BN);
  }
  auto load = [&](int kTile, uint32_t stage) {
    loadA.load(kTile, K, stage);
    loadB.load(kTile, K, stage + A_BYTES);
  };

  float d[128];
#pragma unroll
  for (int i = 0; i < 128; i++) d[i] = 0.0f;

  const int kTiles = paddedK / BK;
#pragma unroll
  for (int s = 0; s < STAGES - 2; s++) {
    if (s < kTiles) load(s, base + s * STAGE_BYTES);
    cp_async_commit();
  }

  for (int kt = 0; kt < kTiles; kt++) {
    cp_async_wait<STAGES - 3>();  // tile kt has landed (this thread's part of it)
    // cp.async writes through the generic proxy; wgmma reads through the async proxy.
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    // Refill the slot of tile kt − 2: both warpgroups waited for its wgmma before this barrier.
    const int next = kt + STAGES - 2;
    if (next < kTiles) load(next, base + (next % STAGES) * STAGE_BYTES);
    cp_async_commit();

    const uint32_t stage = base + (kt % STAGES) * STAGE_BYTES;
    multiply_stage<A_MN, B_MN>(d, stage, stage + A_BYTES, warpgroup);
    asm volatile("wgmma.wait_group.sync.aligned 1;\n" ::: "memory");
    fence_accumulators(d);
  }
  asm volatile("wgmma.wait_group.sync.aligned 0;\n" ::: "memory");
  fence_accumulators(d);
  cp_async_wait<0>();

  store_accumulators(d, C, M, N, ldc, accumulate, tileM, tileN, warpgroup);
}

}  // namespace

extern "C" __global__ void __launch_bounds__(THREADS, 1)
    gemm_bf16_wgmma(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N,
                    int paddedK, int ldc, int accumulate) {
  gemm<false, false>(A, B, C, M, N, paddedK, paddedK, paddedK, paddedK, ldc, accumulate);
}

// A [M][lda] or [K][lda] (MN-major), B [N][ldb] or [K][ldb]; K-major operands have paddedK
// columns (lda or ldb = paddedK), MN-major ones K rows.
#define MN_MAJOR_ENTRY_POINT(NAME, A_MN, B_MN)                                                  \
  extern "C" __global__ void __launch_bounds__(THREADS, 1)                                      \
      NAME(const __nv_bfloat16* A, const __nv_bfloat16* B, float* C, int M, int N, int K,       \
           int paddedK, int lda, int ldb, int ldc, int accumulate) {                            \
    gemm<A_MN, B_MN>(A, B, C, M, N, K, paddedK, lda, ldb, ldc, accumulate);                     \
  }

MN_MAJOR_ENTRY_POINT(gemm_bf16_wgmma_mk, true, false)
MN_MAJOR_ENTRY_POINT(gemm_bf16_wgmma_mm, true, true)
