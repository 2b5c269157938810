/* tinylm.c — a character-level language model trained from scratch in seconds on one core.
 *
 * The workload of `ratchet research` (docs/research.md). It generates its own corpus (a small
 * probabilistic grammar of English-like sentences, always the same text: nothing is read or
 * downloaded), splits it into train, validation and test, trains a multi-layer perceptron over
 * the last CONTEXT characters for a fixed amount of work, and prints
 *
 *     val_bpb: 1.234567      bits per byte on the validation split (what the search selects on)
 *     test_bpb: 1.234567     bits per byte on the test split (reported, never selected on)
 *
 * Budget: a count of work, TINYLM_WORK million units (default WORK_DEFAULT): each step costs
 * the multiply-adds of its forward and backward passes and its update, as step_cost counts them,
 * so a wider or deeper model trains for fewer steps, as it would in a fixed time, but the number
 * of steps never depends on the machine or its load (the noise left is the seed's). With
 * TINYLM_SECONDS set, the budget is that many seconds of process CPU time instead (steps then
 * vary with the load). RATCHET_BUDGET (wall seconds, set by `ratchet research`) is the hard kill,
 * enforced outside: it is not read here.
 * Randomness (initialisation, batches): RATCHET_SEED.
 *
 * Build and run by hand:  cc -O2 -o tinylm tinylm.c -lm && RATCHET_SEED=1 ./tinylm
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* EVOLVE-BLOCK-START */
static const double LR = 0.003;              /* ratchet: log 0.00005 0.3 */
static const char *SCHEDULE = "constant";   /* ratchet: choice constant|cosine|linear */
static const double WARMUP = 0.0;            /* ratchet: real 0 0.3 */
static const int HIDDEN = 32;                /* ratchet: int 8 256 */
static const int DEPTH = 1;                  /* ratchet: int 1 3 */
static const int CONTEXT = 3;                /* ratchet: int 1 16 */
static const int EMBED = 8;                  /* ratchet: int 2 32 */
static const int BATCH = 64;                 /* ratchet: int 1 256 */
static const double INIT_SCALE = 1.0;        /* ratchet: log 0.05 4 */
static const double WEIGHT_DECAY = 0.0001;   /* ratchet: log 0.000001 0.1 */
static const double CLIP = 5.0;              /* ratchet: log 0.1 100 */
static const char *ACTIVATION = "tanh";     /* ratchet: choice tanh|relu */
static const char *OPTIMIZER = "sgd";       /* ratchet: choice sgd|adam */
static const char *RESIDUAL = "no";         /* ratchet: choice no|yes */
/* EVOLVE-BLOCK-END */

#define WORK_DEFAULT 1500.0 /* million units of work: about 1 CPU second for the defaults */
#define COST_NONLINEAR 8     /* units of work of one tanhf, expf or Adam update of a weight */
#define VAL_CHARS 12000
#define TEST_CHARS 12000
#define TRAIN_CHARS 240000
#define MAX_CONTEXT 16
#define MAX_HIDDEN 256
#define MAX_DEPTH 3

static const char ALPHABET[] = "abcdefghijklmnopqrstuvwxyz ,.\n";
#define V ((int)sizeof ALPHABET - 1)

/* ---- random numbers ----------------------------------------------------------------------- */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unit(uint64_t *s) { return (double)(splitmix(s) >> 11) / 9007199254740992.0; }

static double gauss(uint64_t *s)
{
    double u = unit(s) + 1e-12, v = unit(s);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- the corpus: a fixed grammar, the same text on every run ------------------------------ */

static const char *DET[] = {"the", "a", "every", "no", "one", "this", "that", "some"};
static const char *ADJ[] = {"small", "green", "quiet", "old", "bright", "heavy", "strange",
                            "careful", "silver", "narrow", "warm", "lazy"};
static const char *NOUN[] = {"fox", "river", "teacher", "window", "garden", "machine", "bird",
                             "letter", "farmer", "engine", "island", "kettle", "painter",
                             "signal", "forest", "lantern"};
static const char *VERB[] = {"sees", "follows", "builds", "carries", "finds", "watches",
                             "opens", "paints", "hears", "moves", "keeps", "answers"};
static const char *VERB_I[] = {"sleeps", "waits", "sings", "returns", "wanders", "rests",
                               "listens", "shines"};
static const char *PREP[] = {"near", "under", "behind", "beside", "across", "inside"};
static const char *ADV[] = {"slowly", "again", "today", "quietly", "often", "at night"};
#define PICK(a, s) a[splitmix(s) % (sizeof a / sizeof a[0])]

static size_t put(char *buf, size_t at, size_t cap, const char *w)
{
    size_t n = strlen(w);
    if (at + n + 1 >= cap)
        return at;
    memcpy(buf + at, w, n);
    return at + n;
}

static size_t noun_phrase(char *buf, size_t at, size_t cap, uint64_t *s)
{
    at = put(buf, at, cap, PICK(DET, s));
    at = put(buf, at, cap, " ");
    if (unit(s) < 0.5) {
        at = put(buf, at, cap, PICK(ADJ, s));
        at = put(buf, at, cap, " ");
    }
    return put(buf, at, cap, PICK(NOUN, s));
}

/* One sentence: NP VERB NP [PREP NP] [ADV]. or NP VERB_I [ADV], and NP VERB NP. */
static size_t sentence(char *buf, size_t at, size_t cap, uint64_t *s)
{
    at = noun_phrase(buf, at, cap, s);
    at = put(buf, at, cap, " ");
    if (unit(s) < 0.35) {
        at = put(buf, at, cap, PICK(VERB_I, s));
        if (unit(s) < 0.5) {
            at = put(buf, at, cap, " ");
            at = put(buf, at, cap, PICK(ADV, s));
        }
        at = put(buf, at, cap, ", and ");
        at = noun_phrase(buf, at, cap, s);
        at = put(buf, at, cap, " ");
    }
    at = put(buf, at, cap, PICK(VERB, s));
    at = put(buf, at, cap, " ");
    at = noun_phrase(buf, at, cap, s);
    if (unit(s) < 0.4) {
        at = put(buf, at, cap, " ");
        at = put(buf, at, cap, PICK(PREP, s));
        at = put(buf, at, cap, " ");
        at = noun_phrase(buf, at, cap, s);
    }
    if (unit(s) < 0.3) {
        at = put(buf, at, cap, " ");
        at = put(buf, at, cap, PICK(ADV, s));
    }
    return put(buf, at, cap, unit(s) < 0.2 ? ".\n" : ". ");
}

/* The corpus as symbol ids (0..V-1); n symbols. */
static unsigned char *make_corpus(size_t n)
{
    size_t cap = n + 256;
    char *text = malloc(cap);
    unsigned char *ids = malloc(n);
    if (!text || !ids)
        exit(3);
    uint64_t s = 20261203; /* fixed: the corpus never depends on RATCHET_SEED */
    size_t at = 0;
    while (at < n)
        at = sentence(text, at, cap, &s);
    for (size_t i = 0; i < n; i++)
        ids[i] = (unsigned char)(strchr(ALPHABET, text[i]) - ALPHABET);
    free(text);
    return ids;
}

/* ---- the model: embeddings, DEPTH hidden layers, softmax ----------------------------------- */

typedef struct layer {
    int in, out;
    float *w, *b;   /* w[out][in] */
    float *gw, *gb; /* gradients */
    float *mw, *mb, *vw, *vb; /* Adam moments */
} layer;

typedef struct model {
    float *emb, *gemb, *memb, *vemb; /* emb[V][EMBED] */
    layer hid[MAX_DEPTH], head;
    int relu, adam, residual;
} model;

static float *zeros(size_t n)
{
    float *p = calloc(n ? n : 1, sizeof *p);
    if (!p)
        exit(3);
    return p;
}

static void layer_init(layer *l, int in, int out, uint64_t *s)
{
    size_t n = (size_t)in * (size_t)out;
    l->in = in;
    l->out = out;
    l->w = zeros(n), l->gw = zeros(n), l->mw = zeros(n), l->vw = zeros(n);
    l->b = zeros((size_t)out), l->gb = zeros((size_t)out);
    l->mb = zeros((size_t)out), l->vb = zeros((size_t)out);
    double sd = INIT_SCALE / sqrt((double)in);
    for (size_t i = 0; i < n; i++)
        l->w[i] = (float)(sd * gauss(s));
}

static void model_init(model *m, uint64_t *s)
{
    size_t ne = (size_t)V * (size_t)EMBED;
    m->emb = zeros(ne), m->gemb = zeros(ne), m->memb = zeros(ne), m->vemb = zeros(ne);
    for (size_t i = 0; i < ne; i++)
        m->emb[i] = (float)(INIT_SCALE * gauss(s));
    int in = CONTEXT * EMBED;
    for (int d = 0; d < DEPTH; d++) {
        layer_init(&m->hid[d], in, HIDDEN, s);
        in = HIDDEN;
    }
    layer_init(&m->head, HIDDEN, V, s);
    m->relu = strcmp(ACTIVATION, "relu") == 0;
    m->adam = strcmp(OPTIMIZER, "adam") == 0;
    m->residual = strcmp(RESIDUAL, "yes") == 0;
}

/* Activations of one example: x (the concatenated embeddings), h[d] per layer, the logits. */
typedef struct acts {
    float x[MAX_CONTEXT * 32];
    float h[MAX_DEPTH][MAX_HIDDEN];
    float p[V];
} acts;

static void affine(const layer *l, const float *in, float *out)
{
    for (int o = 0; o < l->out; o++) {
        const float *w = l->w + (size_t)o * (size_t)l->in;
        float acc = l->b[o];
        for (int i = 0; i < l->in; i++)
            acc += w[i] * in[i];
        out[o] = acc;
    }
}

/* Forward pass for the context ending before position t; returns -log2 p(data[t]). */
static double forward(const model *m, const unsigned char *data, size_t t, acts *a)
{
    for (int c = 0; c < CONTEXT; c++) {
        int sym = t >= (size_t)(CONTEXT - c) ? data[t - (size_t)(CONTEXT - c)] : V - 4;
        memcpy(a->x + c * EMBED, m->emb + sym * EMBED, (size_t)EMBED * sizeof(float));
    }
    const float *in = a->x;
    for (int d = 0; d < DEPTH; d++) {
        float *h = a->h[d];
        affine(&m->hid[d], in, h);
        for (int o = 0; o < HIDDEN; o++) {
            h[o] = m->relu ? (h[o] > 0 ? h[o] : 0) : tanhf(h[o]);
            if (m->residual && d > 0)
                h[o] += in[o];
        }
        in = h;
    }
    affine(&m->head, in, a->p);
    float mx = a->p[0];
    for (int k = 1; k < V; k++)
        mx = a->p[k] > mx ? a->p[k] : mx;
    double z = 0;
    for (int k = 0; k < V; k++)
        z += (a->p[k] = expf(a->p[k] - mx));
    for (int k = 0; k < V; k++)
        a->p[k] = (float)(a->p[k] / z);
    double pt = a->p[data[t]];
    return -log2(pt > 1e-12 ? pt : 1e-12);
}

/* Back-propagates one example (after forward) into the gradients. */
static void backward(model *m, const unsigned char *data, size_t t, acts *a)
{
    float g[MAX_CONTEXT * 32], gin[MAX_CONTEXT * 32];
    float dlog[V];
    for (int k = 0; k < V; k++)
        dlog[k] = a->p[k] - (k == data[t] ? 1.0f : 0.0f);
    const float *top = DEPTH > 0 ? a->h[DEPTH - 1] : a->x;
    layer *l = &m->head;
    memset(g, 0, sizeof g);
    for (int o = 0; o < V; o++) {
        float *gw = l->gw + (size_t)o * (size_t)l->in, *w = l->w + (size_t)o * (size_t)l->in;
        l->gb[o] += dlog[o];
        for (int i = 0; i < l->in; i++) {
            gw[i] += dlog[o] * top[i];
            g[i] += dlog[o] * w[i];
        }
    }
    for (int d = DEPTH - 1; d >= 0; d--) {
        l = &m->hid[d];
        const float *in = d > 0 ? a->h[d - 1] : a->x;
        float *gout = gin;
        memset(gout, 0, (size_t)l->in * sizeof(float));
        for (int o = 0; o < l->out; o++) {
            float h = a->h[d][o], pre = h;
            if (m->residual && d > 0)
                pre = h - in[o];
            float dpre = m->relu ? (pre > 0 ? g[o] : 0) : g[o] * (1 - pre * pre);
            float *gw = l->gw + (size_t)o * (size_t)l->in, *w = l->w + (size_t)o * (size_t)l->in;
            l->gb[o] += dpre;
            for (int i = 0; i < l->in; i++) {
                gw[i] += dpre * in[i];
                gout[i] += dpre * w[i];
            }
        }
        if (m->residual && d > 0)
            for (int i = 0; i < l->in; i++)
                gout[i] += g[i];
        memcpy(g, gout, (size_t)l->in * sizeof(float));
    }
    for (int c = 0; c < CONTEXT; c++) {
        int sym = t >= (size_t)(CONTEXT - c) ? data[t - (size_t)(CONTEXT - c)] : V - 4;
        for (int e = 0; e < EMBED; e++)
            m->gemb[sym * EMBED + e] += g[c * EMBED + e];
    }
}

/* ---- optimisation ------------------------------------------------------------------------- */

typedef struct step_ctx {
    double lr, scale; /* learning rate now; gradient scale (1/batch, clipped) */
    long t;           /* Adam's step count */
} step_ctx;

static void update(float *w, float *gw, float *mw, float *vw, size_t n, const step_ctx *c,
                   int adam, int decay)
{
    double b1 = 0.9, b2 = 0.999;
    double c1 = 1 - pow(b1, (double)c->t), c2 = 1 - pow(b2, (double)c->t);
    for (size_t i = 0; i < n; i++) {
        double g = gw[i] * c->scale;
        if (adam) {
            mw[i] = (float)(b1 * mw[i] + (1 - b1) * g);
            vw[i] = (float)(b2 * vw[i] + (1 - b2) * g * g);
            g = (mw[i] / c1) / (sqrt(vw[i] / c2) + 1e-8);
        } else {
            mw[i] = (float)(0.9 * mw[i] + g); /* momentum */
            g = mw[i];
        }
        w[i] -= (float)(c->lr * (g + (decay ? WEIGHT_DECAY * w[i] : 0)));
        gw[i] = 0;
    }
}

static double grad_norm2(const float *g, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += (double)g[i] * g[i];
    return s;
}

static void apply_step(model *m, step_ctx *c)
{
    layer *ls[MAX_DEPTH + 1];
    int nl = 0;
    for (int d = 0; d < DEPTH; d++)
        ls[nl++] = &m->hid[d];
    ls[nl++] = &m->head;
    double n2 = grad_norm2(m->gemb, (size_t)V * (size_t)EMBED);
    for (int k = 0; k < nl; k++)
        n2 += grad_norm2(ls[k]->gw, (size_t)ls[k]->in * (size_t)ls[k]->out) +
              grad_norm2(ls[k]->gb, (size_t)ls[k]->out);
    double norm = sqrt(n2) * c->scale;
    if (norm > CLIP)
        c->scale *= CLIP / norm;
    c->t++;
    update(m->emb, m->gemb, m->memb, m->vemb, (size_t)V * (size_t)EMBED, c, m->adam, 0);
    for (int k = 0; k < nl; k++) {
        update(ls[k]->w, ls[k]->gw, ls[k]->mw, ls[k]->vw, (size_t)ls[k]->in * (size_t)ls[k]->out,
               c, m->adam, 1);
        update(ls[k]->b, ls[k]->gb, ls[k]->mb, ls[k]->vb, (size_t)ls[k]->out, c, m->adam, 0);
    }
}

/* The learning rate at progress f in [0, 1] of the training budget. */
static double lr_at(double f)
{
    if (WARMUP > 0 && f < WARMUP)
        return LR * f / WARMUP;
    double r = WARMUP < 1 ? (f - WARMUP) / (1 - WARMUP) : 1;
    if (strcmp(SCHEDULE, "cosine") == 0)
        return LR * (0.05 + 0.95 * 0.5 * (1 + cos(3.141592653589793 * r)));
    if (strcmp(SCHEDULE, "linear") == 0)
        return LR * (1 - 0.95 * r);
    return LR;
}

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The units of work of one training step of BATCH examples (model_cost's count): per example,
 * the forward pass's multiply-adds and twice those backwards, plus its activations and softmax;
 * per step, the update of every parameter (Adam's dearer). A proxy for time that does not depend
 * on the machine: within about a third of the measured time per unit over the knobs' ranges. */
static double step_cost(void)
{
    double in = (double)CONTEXT * EMBED, h = HIDDEN, v = V;
    double macs = in * h + (DEPTH - 1) * h * h + h * v;
    double params = (double)V * EMBED + macs + DEPTH * h + v;
    double example = 3 * macs + COST_NONLINEAR * (DEPTH * h + v);
    double update = params * (strcmp(OPTIMIZER, "adam") == 0 ? COST_NONLINEAR : 3);
    return BATCH * example + update;
}

static double evaluate(const model *m, const unsigned char *data, size_t n)
{
    acts a;
    double bits = 0;
    for (size_t t = 0; t < n; t++)
        bits += forward(m, data, t, &a);
    return bits / (double)n;
}

int main(void)
{
    if (CONTEXT < 1 || CONTEXT > MAX_CONTEXT || EMBED < 1 || EMBED > 32 || HIDDEN < 1 ||
        HIDDEN > MAX_HIDDEN || DEPTH < 1 || DEPTH > MAX_DEPTH || BATCH < 1) {
        fprintf(stderr, "tinylm: a size out of range\n");
        return 1;
    }
    const char *env = getenv("RATCHET_SEED");
    uint64_t seed = env ? strtoull(env, NULL, 10) : 1;
    env = getenv("TINYLM_WORK");
    double work_budget = env && strtod(env, NULL) > 0 ? strtod(env, NULL) : WORK_DEFAULT;
    env = getenv("TINYLM_SECONDS");
    double cpu_budget = env && strtod(env, NULL) > 0 ? strtod(env, NULL) : 0;
    unsigned char *corpus = make_corpus(TRAIN_CHARS + VAL_CHARS + TEST_CHARS);
    const unsigned char *train = corpus, *val = corpus + TRAIN_CHARS,
                        *test = corpus + TRAIN_CHARS + VAL_CHARS;
    model m;
    memset(&m, 0, sizeof m);
    model_init(&m, &seed);
    double t0 = cpu_seconds(), loss = 0, cost = step_cost(), work = 0;
    step_ctx c = {0};
    long steps = 0;
    acts a;
    for (;;) {
        double f = cpu_budget > 0 ? (cpu_seconds() - t0) / cpu_budget
                                  : work / (work_budget * 1e6);
        if (f >= 1)
            break;
        c.lr = lr_at(f);
        c.scale = 1.0 / BATCH;
        double batch_loss = 0;
        for (int b = 0; b < BATCH; b++) {
            size_t t = 1 + (size_t)(splitmix(&seed) % (TRAIN_CHARS - 1));
            batch_loss += forward(&m, train, t, &a);
            backward(&m, train, t, &a);
        }
        apply_step(&m, &c);
        loss = 0.98 * loss + 0.02 * batch_loss / BATCH;
        steps++;
        work += cost;
        if (!isfinite(batch_loss)) {
            fprintf(stderr, "tinylm: the loss diverged at step %ld\n", steps);
            return 1;
        }
    }
    printf("steps: %ld\n", steps);
    printf("train_work_millions: %.1f\n", work / 1e6);
    printf("train_cpu_seconds: %.3f\n", cpu_seconds() - t0);
    printf("train_bpb_smoothed: %.6f\n", loss);
    printf("val_bpb: %.6f\n", evaluate(&m, val, VAL_CHARS));
    printf("test_bpb: %.6f\n", evaluate(&m, test, TEST_CHARS));
    free(corpus);
    return 0;
}
