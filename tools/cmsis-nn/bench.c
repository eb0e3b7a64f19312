/*
 * The C side of scripts/compare-cmsis-nn.sh: one Elman (or LSTM) step per token, 64 tokens,
 * between the same instruction-count markers as examples/firmware/src/bin/footprint_q8.rs
 * (`infer_start` .. `step_stop`), with the same random int8 weights (Xoshiro128++ seeded by
 * SplitMix64 from 5, the `DefaultRng` of micrornn, in the same order: w_xh, w_hh, w_hy).
 *
 * -DHIDDEN=H and one of
 *   -DVARIANT_MICRORNN_C    micrornn's integer step in plain C (QRnn::step of
 *                           src/model/quant/qrnn.rs with the scalar reference kernels): prints
 *                           the same state checksum as footprint_q8.rs, so the script can check
 *                           that both compute the same states;
 *   -DVARIANT_CMSIS_ELMAN   the same Elman step from CMSIS-NN's int16 kernels: the token's input
 *                           column (the same per-unit integer arithmetic as micrornn's), then
 *                           arm_nn_vec_mat_mul_result_acc_s16 (W_hh·h with one per-matrix scale,
 *                           accumulated onto it, saturated to Q3.12), then arm_nn_activation_s16
 *                           (tanh, Q3.12 -> Q15);
 *   -DVARIANT_CMSIS_LSTM_S8 / -DVARIANT_CMSIS_LSTM_S16
 *                           CMSIS-NN's whole LSTM step (arm_lstm_unidirectional_s8 / _s16, one
 *                           time step per call, input = the token's embedding row, I = H).
 * The next token always comes from micrornn's integer logits of the Q15 state (outside the
 * window); the LSTM variants, whose state has another scale, feed a fixed token sequence.
 */
#include <stdint.h>
#include <string.h>

#include "semihost.h"

#if defined(VARIANT_CMSIS_ELMAN) || defined(VARIANT_CMSIS_LSTM_S8) || defined(VARIANT_CMSIS_LSTM_S16)
#include "arm_nnfunctions.h"
#include "arm_nnsupportfunctions.h"
#endif

#ifndef HIDDEN
#error "define HIDDEN"
#endif
#define H HIDDEN
#define IO 32
#define STEPS 64
#define XH_SHIFT 8
#define XH_MULTIPLIER_LIMIT ((1 << 23) - 1)

/* ---- markers: distinct bodies so the linker cannot fold them ---- */
__attribute__((noinline, used)) void infer_start(void) { __asm__ volatile("nop"); }
__attribute__((noinline, used)) void step_stop(void) { __asm__ volatile("nop\n nop\n nop\n nop\n nop"); }

/* ---- DefaultRng = Xoshiro128PlusPlus::seed_from_u64 (SplitMix64 fills the 16-byte seed) ---- */
static uint32_t rng_state[4];

static uint64_t splitmix_next(uint64_t *x)
{
    *x += 0x9e3779b97f4a7c15ull;
    uint64_t z = *x;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void rng_seed(uint64_t seed)
{
    uint64_t a = splitmix_next(&seed), b = splitmix_next(&seed);
    rng_state[0] = (uint32_t)a;
    rng_state[1] = (uint32_t)(a >> 32);
    rng_state[2] = (uint32_t)b;
    rng_state[3] = (uint32_t)(b >> 32);
}

static uint32_t rotl(uint32_t x, int k) { return (x << k) | (x >> (32 - k)); }

static uint32_t rng_next(void)
{
    uint32_t *s = rng_state;
    uint32_t result = rotl(s[0] + s[3], 7) + s[0];
    uint32_t t = s[1] << 9;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
}

/* ---- the model of footprint_q8.rs ---- */
static int8_t w_xh[IO][H], w_hh[H][H], w_hy[IO][H];
static int32_t xh_multiplier[IO], hh_multiplier[H], hy_multiplier[IO], b_y[IO];
__attribute__((unused)) static int32_t b_h[H];

static uint64_t isqrt(uint64_t n)
{
    uint64_t r = 0;
    for (uint64_t bit = 1ull << 62; bit; bit >>= 2) {
        if (n >= r + bit) {
            n -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

/* 2^shift / (127·√n), as footprint_q8.rs's `multiplier`. */
static int32_t multiplier(unsigned shift, uint64_t n) { return (int32_t)((1ull << shift) / isqrt(127 * 127 * n)); }

static void model_init(void)
{
    rng_seed(5);
    for (int r = 0; r < IO; r++)
        for (int c = 0; c < H; c++) w_xh[r][c] = (int8_t)((int32_t)(rng_next() % 255) - 127);
    for (int r = 0; r < H; r++)
        for (int c = 0; c < H; c++) w_hh[r][c] = (int8_t)((int32_t)(rng_next() % 255) - 127);
    for (int r = 0; r < IO; r++)
        for (int c = 0; c < H; c++) w_hy[r][c] = (int8_t)((int32_t)(rng_next() % 255) - 127);
    for (int i = 0; i < IO; i++) xh_multiplier[i] = multiplier(20, IO);
    for (int i = 0; i < H; i++) hh_multiplier[i] = multiplier(29, H);
    for (int i = 0; i < IO; i++) hy_multiplier[i] = multiplier(27, H);
}

/* ---- micrornn's integer kernels (src/kernels/int/scalar.rs, tanh.rs) in C ---- */
static int32_t requantize(int32_t acc, int32_t m) { return (int32_t)(((int64_t)acc * m + (1ll << 31)) >> 32); }

static int32_t sat_add(int32_t a, int32_t b)
{
    int64_t s = (int64_t)a + b;
    return s > INT32_MAX ? INT32_MAX : s < INT32_MIN ? INT32_MIN : (int32_t)s;
}

static int16_t saturate_i16(int32_t x) { return (int16_t)(x > 32767 ? 32767 : x < -32768 ? -32768 : x); }

/* round(2^15·tanh(i/64)) for i = 0..=513, computed like tanh.rs's const fn (same f64 steps). */
static int16_t tanh_table[514];

static double exp_f64(double x)
{
    double y = x / 16.0, term = 1.0, sum = 1.0;
    for (int n = 1; n < 30; n++) {
        term = term * y / (double)n;
        sum += term;
    }
    for (int k = 0; k < 4; k++) sum *= sum;
    return sum;
}

static void tanh_init(void)
{
    for (int i = 0; i <= 513; i++) {
        double v = (1.0 - 2.0 / (exp_f64(2.0 * (i / 64.0)) + 1.0)) * 32768.0 + 0.5;
        tanh_table[i] = v >= 32767.0 ? 32767 : (int16_t)v;
    }
}

__attribute__((unused)) static int16_t tanh_q15(int32_t x)
{
    uint32_t magnitude = x < 0 ? 0u - (uint32_t)x : (uint32_t)x;
    if (magnitude > (1u << 15)) magnitude = 1u << 15;
    uint32_t index = magnitude >> 6;
    int32_t f = (int32_t)(magnitude & 63);
    int32_t lo = tanh_table[index], hi = tanh_table[index + 1];
    int32_t y = lo + (((hi - lo) * f + 32) >> 6);
    return (int16_t)(x < 0 ? -y : y);
}

static void matvec_requant(const int8_t *w, const int16_t *x, int cols, const int32_t *m, int32_t *out, int rows)
{
    for (int r = 0; r < rows; r++) {
        int32_t acc = 0;
        for (int c = 0; c < cols; c++) acc += (int32_t)w[r * cols + c] * x[c];
        out[r] = requantize(acc, m[r]);
    }
}

/* The token's input contribution x_j in Q12 (qrnn.rs: (w·m + 2^7) >> 8, m clamped). */
__attribute__((unused)) static int32_t xh_multiplier_of(int token)
{
    int32_t m = xh_multiplier[token];
    return m > XH_MULTIPLIER_LIMIT ? XH_MULTIPLIER_LIMIT : m < -XH_MULTIPLIER_LIMIT ? -XH_MULTIPLIER_LIMIT : m;
}

/* micrornn's logits + argmax (outside the window: only picks the next token). */
__attribute__((unused)) static int next_token(const int16_t *h)
{
    int32_t acc[IO];
    matvec_requant(&w_hy[0][0], h, H, hy_multiplier, acc, IO);
    int best = 0;
    int16_t best_value = 0;
    for (int o = 0; o < IO; o++) {
        int16_t v = saturate_i16(sat_add(acc[o], b_y[o]));
        if (o == 0 || v > best_value) {
            best = o;
            best_value = v;
        }
    }
    return best;
}

#if defined(VARIANT_MICRORNN_C)
#define VARIANT_NAME "micrornn-c"
typedef int16_t state_t;
/* QRnn::step: pre = requantize(W_hh·h), h_j = tanh_q15(pre_j + b_h[j] + x_j). */
__attribute__((noinline)) static void step(int token, int16_t *h)
{
    int32_t pre[H];
    matvec_requant(&w_hh[0][0], h, H, hh_multiplier, pre, H);
    int32_t m = xh_multiplier_of(token);
    for (int j = 0; j < H; j++) {
        int32_t x = ((int32_t)w_xh[token][j] * m + (1 << (XH_SHIFT - 1))) >> XH_SHIFT;
        h[j] = tanh_q15(sat_add(sat_add(pre[j], b_h[j]), x));
    }
}
static void variant_init(void) {}

#elif defined(VARIANT_CMSIS_ELMAN)
#define VARIANT_NAME "cmsis-nn-elman"
typedef int16_t state_t;
static int64_t hh_effective_bias[H]; /* b_h = 0 in footprint_q8.rs */
static int32_t cmsis_multiplier, cmsis_shift;

/* micrornn's per-matrix factor m / 2^32 as CMSIS-NN's (Q31 multiplier, power-of-two shift). */
static void variant_init(void)
{
    uint32_t m = (uint32_t)hh_multiplier[0];
    int k = 0;
    while (m < (1u << 30)) {
        m <<= 1;
        k++;
    }
    cmsis_multiplier = (int32_t)m;
    cmsis_shift = -(k + 1);
}

__attribute__((noinline)) static void step(int token, int16_t *h)
{
    int16_t pre[H];
    int32_t m = xh_multiplier_of(token);
    for (int j = 0; j < H; j++) {
        int32_t x = ((int32_t)w_xh[token][j] * m + (1 << (XH_SHIFT - 1))) >> XH_SHIFT;
        pre[j] = saturate_i16(x);
    }
    arm_nn_vec_mat_mul_result_acc_s16(h, &w_hh[0][0], hh_effective_bias, pre, cmsis_multiplier, cmsis_shift, H, H, 1, 1);
    arm_nn_activation_s16(pre, h, H, 0, ARM_TANH);
}

#else /* the LSTM variants */
#if defined(VARIANT_CMSIS_LSTM_S8)
#define VARIANT_NAME "cmsis-nn-lstm-s8"
typedef int8_t state_t;
typedef int32_t bias_t;
#define LSTM arm_lstm_unidirectional_s8
#else
#define VARIANT_NAME "cmsis-nn-lstm-s16"
typedef int16_t state_t;
typedef int64_t bias_t;
#define LSTM arm_lstm_unidirectional_s16
#endif
static bias_t zero_bias[H];
static int32_t gate_bias[H];
static int16_t temp1[H], temp2[H], cell_state[H];
static state_t lstm_hidden[H], lstm_output[H], lstm_input[IO][H];
static cmsis_nn_lstm_params params;
static cmsis_nn_lstm_context buffers;

static cmsis_nn_lstm_gate gate(arm_nn_activation_type activation)
{
    /* Every gate multiplies by w_hh (H x H) for both the input (I = H) and the hidden state. */
    cmsis_nn_lstm_gate g = {
        .input_multiplier = 1 << 30, .input_shift = -8, .input_weights = &w_hh[0][0],
        .input_effective_bias = zero_bias, .hidden_multiplier = 1 << 30, .hidden_shift = -8,
        .hidden_weights = &w_hh[0][0], .hidden_effective_bias = zero_bias, .bias = gate_bias,
        .activation_type = activation,
    };
    return g;
}

static void variant_init(void)
{
    for (int t = 0; t < IO; t++)
        for (int j = 0; j < H; j++) lstm_input[t][j] = (state_t)(w_xh[t][j] * (int32_t)(sizeof(state_t) == 1 ? 1 : 256));
    params.time_major = 1;
    params.batch_size = 1;
    params.time_steps = 1;
    params.input_size = H;
    params.hidden_size = H;
    params.forget_to_cell_multiplier = 1 << 30;
    params.forget_to_cell_shift = -14;
    params.input_to_cell_multiplier = 1 << 30;
    params.input_to_cell_shift = -14;
    params.cell_clip = 32767;
    params.cell_scale_power = -11;
    params.output_multiplier = 1 << 30;
    params.output_shift = sizeof(state_t) == 1 ? -22 : -14;
    params.forget_gate = gate(ARM_SIGMOID);
    params.input_gate = gate(ARM_SIGMOID);
    params.cell_gate = gate(ARM_TANH);
    params.output_gate = gate(ARM_SIGMOID);
    buffers.temp1 = temp1;
    buffers.temp2 = temp2;
    buffers.cell_state = cell_state;
    buffers.hidden_state = lstm_hidden;
}

__attribute__((noinline)) static void step(int token, state_t *h)
{
    (void)h;
    LSTM(lstm_input[token], lstm_output, &params, &buffers);
}
#endif

/* ---- decimal output without newlib's printf ---- */
static char *put_u32(char *p, uint32_t v)
{
    char digits[10];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n) *p++ = digits[--n];
    return p;
}

static char *put_str(char *p, const char *s)
{
    while (*s) *p++ = *s++;
    return p;
}

int main(void)
{
    model_init();
    tanh_init();
    variant_init();
    static state_t hidden[H];
#if defined(VARIANT_CMSIS_LSTM_S8) || defined(VARIANT_CMSIS_LSTM_S16)
    state_t *state = lstm_hidden;
#else
    state_t *state = hidden;
#endif
    int token = 3;
    uint32_t checksum = 0;
    for (int s = 0; s < STEPS; s++) {
        infer_start();
        step(token, hidden);
        step_stop();
        for (int j = 0; j < H; j++) checksum += (uint32_t)(j + 1) * (uint32_t)(int32_t)state[j];
#if defined(VARIANT_CMSIS_LSTM_S8) || defined(VARIANT_CMSIS_LSTM_S16)
        token = (token * 5 + 3) % IO;
#else
        token = next_token(hidden);
#endif
    }
    char line[96], *p = line;
    p = put_str(p, VARIANT_NAME " H=");
    p = put_u32(p, H);
    p = put_str(p, ": state checksum ");
    p = put_u32(p, checksum);
    p = put_str(p, "\n");
    *p = 0;
    sh_print(line);
    return 0;
}
