// Tokens/s through libllama with and without the telltale watermark sampler.
//
//   telltale_llama_bench --model reflm.gguf --model random-llama3-vocab.gguf [-n 128] [--rounds 7]
//
// For each model and scheme it generates n tokens per run with
//   baseline:  top-k 40 -> top-p 0.95 -> temp 0.8 -> dist
//   watermark: kgw (first in chain) or gumbel (in place of dist) + the same,
// in paired rounds (both chains back to back, the order alternating), and
// prints the median tokens per CPU-second of each (one llama thread, so CPU
// time is the generation work), the median of the per-round ratios, the
// loss and its interquartile range over rounds.
// It also times the sampler alone (microseconds per token), which is what
// the loss is made of, interleaved with the previous dense-row algorithm as
// a same-run baseline (a bias row over the whole vocabulary then a gather
// per candidate; or, for gumbel, a dense logits row for Watermarker::Sample).
#include <algorithm>
#include <cmath>
#include <ctime>
#include <limits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "llama.h"
#include "watermark/llama/llama_generation.h"
#include "watermark/llama/watermark_sampler.h"

namespace {

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Quartiles {
  double q1, median, q3;
};
Quartiles QuartilesOf(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return {v[v.size() / 4], v[v.size() / 2], v[(3 * v.size()) / 4]};
}

llama_sampler* Chain(telltale::LlamaGeneration& gen, std::shared_ptr<const telltale::Watermarker> wm) {
  llama_sampler* chain = llama_sampler_chain_init(llama_sampler_chain_default_params());
  const bool selects = wm != nullptr && wm->spec().is_sampling_scheme();
  if (wm != nullptr && !selects) llama_sampler_chain_add(chain, telltale::WatermarkSampler::New(wm, gen.n_vocab(), 1).value());
  llama_sampler_chain_add(chain, gen.NewEogSuppressor());
  llama_sampler_chain_add(chain, llama_sampler_init_top_k(40));
  llama_sampler_chain_add(chain, llama_sampler_init_top_p(0.95f, 1));
  llama_sampler_chain_add(chain, llama_sampler_init_temp(0.8f));
  llama_sampler_chain_add(chain, selects ? telltale::WatermarkSampler::New(wm, gen.n_vocab(), 1).value()
                                         : llama_sampler_init_dist(1));
  return chain;
}

// Process CPU seconds: on a shared, oversubscribed machine wall time mostly
// measures the other tenants; with one llama thread, CPU time is the work.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

double TokensPerSecond(telltale::LlamaGeneration& gen, llama_sampler* chain, const std::vector<int32_t>& prompt,
                       int32_t n) {
  const double t0 = CpuSeconds();
  auto out = gen.Generate(prompt, chain, n);
  const double s = CpuSeconds() - t0;
  if (!out.ok() || out->size() != static_cast<size_t>(n)) {
    std::fprintf(stderr, "telltale_llama_bench: generation failed: %s\n",
                 out.ok() ? "too few tokens" : out.status().message().c_str());
    std::exit(2);
  }
  return n / s;
}

// Paired rounds: each round runs both chains back to back (the order
// alternating) and keeps their throughput ratio. This host's speed drifts by
// tens of percent over minutes; a ratio of two runs 50 ms apart cancels that,
// where a ratio of two medians of separately collected runs does not.
struct Paired {
  double base = 0, with = 0;     // median tokens per CPU-second of each chain
  Quartiles ratio{1, 1, 1};      // of with/base over rounds
  std::string LossRange() const {
    char buf[48];
    std::snprintf(buf, sizeof buf, "%.2f..%.2f", (1 - ratio.q3) * 100, (1 - ratio.q1) * 100);
    return buf;
  }
};

Paired MeasurePaired(telltale::LlamaGeneration& gen, llama_sampler* base, llama_sampler* with,
                     const std::vector<int32_t>& prompt, int32_t n, int rounds) {
  std::vector<double> b, w, r;
  for (int i = 0; i < rounds; ++i) {
    double tb, tw;
    if (i % 2 == 0) {
      tb = TokensPerSecond(gen, base, prompt, n);
      tw = TokensPerSecond(gen, with, prompt, n);
    } else {
      tw = TokensPerSecond(gen, with, prompt, n);
      tb = TokensPerSecond(gen, base, prompt, n);
    }
    b.push_back(tb);
    w.push_back(tw);
    r.push_back(tw / tb);
  }
  Paired p;
  p.base = Median(b);
  p.with = Median(w);
  p.ratio = QuartilesOf(r);
  return p;
}

// This thread's CPU seconds: the per-step timings below are microseconds
// long, and the thread clock leaves out llama's other threads (if any).
double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

// Interleaved per-token A/B: one generation in which, after every decode,
// both chains sample from the same logits (the order alternating per step),
// each timed on its own; decoding continues with `base`'s token. The loss is
// then (with - base) / (decode + base) summed over the round's steps: the
// whole difference in per-token work, measured microseconds apart, so host
// speed drift and load cancel. (`with` accepts its own token, so its context
// is not the text generated; the sampler's cost does not depend on it.)
struct Interleaved {
  double decode_us = 0, base_us = 0, with_us = 0;  // per token, medians over rounds
  Quartiles loss{0, 0, 0};                         // fraction, over rounds
};

Interleaved MeasureInterleaved(telltale::LlamaGeneration& gen, llama_sampler* base, llama_sampler* with,
                               const std::vector<int32_t>& prompt, int32_t n, int rounds) {
  llama_context* ctx = gen.context();
  std::vector<double> dec, tb, tw, loss;
  for (int r = 0; r < rounds; ++r) {
    llama_memory_clear(llama_get_memory(ctx), true);
    llama_sampler_reset(base);
    llama_sampler_reset(with);
    for (int32_t t : prompt) {
      llama_sampler_accept(base, t);
      llama_sampler_accept(with, t);
    }
    std::vector<int32_t> tokens(prompt);
    llama_batch batch = llama_batch_get_one(tokens.data(), static_cast<int32_t>(tokens.size()));
    int32_t next = 0;
    double d = 0, b = 0, w = 0;
    for (int32_t i = 0; i < n; ++i) {
      double t0 = ThreadCpuSeconds();
      if (llama_decode(ctx, batch) != 0) {
        std::fprintf(stderr, "telltale_llama_bench: llama_decode failed\n");
        std::exit(2);
      }
      double t1 = ThreadCpuSeconds();
      d += t1 - t0;
      auto time_one = [&](llama_sampler* chain, double* acc) {
        const double s0 = ThreadCpuSeconds();
        const int32_t tok = llama_sampler_sample(chain, ctx, -1);
        *acc += ThreadCpuSeconds() - s0;
        return tok;
      };
      if ((i + r) % 2 == 0) {
        next = time_one(base, &b);
        time_one(with, &w);
      } else {
        time_one(with, &w);
        next = time_one(base, &b);
      }
      batch = llama_batch_get_one(&next, 1);
    }
    dec.push_back(d * 1e6 / n);
    tb.push_back(b * 1e6 / n);
    tw.push_back(w * 1e6 / n);
    loss.push_back((w - b) / (d + b));
  }
  Interleaved x;
  x.decode_us = Median(dec);
  x.base_us = Median(tb);
  x.with_us = Median(tw);
  x.loss = QuartilesOf(loss);
  return x;
}

struct SamplerTimes {
  double sampler_us = 0;  // WatermarkSampler::Apply as the chain calls it
  double dense_us = 0;    // the dense-row algorithm it replaced, same input
};

// Sampler alone: CPU microseconds per apply where the chain puts it: on all
// n_vocab candidates in id order (bias schemes, first) or on the 40 that
// top-k leaves (sampling schemes, last). Each iteration times the sampler
// and the dense-row reference on the same context and a fresh copy of the
// same array, so load on the machine hits both alike.
SamplerTimes TimeSampler(std::shared_ptr<const telltale::Watermarker> wm, int32_t n_vocab) {
  llama_sampler* s = telltale::WatermarkSampler::New(wm, n_vocab, 1).value();
  const bool sampling = wm->spec().is_sampling_scheme();
  const int32_t n = sampling ? std::min(40, n_vocab) : n_vocab;
  std::vector<llama_token_data> base(static_cast<size_t>(n)), cur;
  for (int32_t i = 0; i < n; ++i) {
    const int32_t id = n == n_vocab ? i : static_cast<int32_t>((int64_t{i} * 7919) % n_vocab);
    base[i] = {id, 0.001f * static_cast<float>((id * 7919) % 1000), 0.0f};
  }
  std::vector<float> dense(static_cast<size_t>(n_vocab));
  telltale::SampleWorkspace ws;
  uint64_t rng = 1;
  const int iters = 200;
  SamplerTimes t;
  for (int it = 0; it < iters; ++it) {
    const int32_t ctx[1] = {it + 1};
    cur = base;
    llama_sampler_accept(s, ctx[0]);
    double t0 = CpuSeconds();
    llama_token_data_array arr{cur.data(), cur.size(), -1, false};
    llama_sampler_apply(s, &arr);
    t.sampler_us += CpuSeconds() - t0;
    cur = base;
    t0 = CpuSeconds();
    if (sampling) {
      dense.assign(dense.size(), -std::numeric_limits<float>::infinity());
      for (const auto& c : cur) dense[c.id] = c.logit;
      if (!wm->Sample(ctx, dense, {}, rng, ws).ok()) std::abort();
    } else {
      std::fill(dense.begin(), dense.end(), 0.0f);
      if (!wm->Apply(ctx, dense).ok()) std::abort();
      for (auto& c : cur) c.logit += dense[c.id];
    }
    t.dense_us += CpuSeconds() - t0;
  }
  t.sampler_us *= 1e6 / iters;
  t.dense_us *= 1e6 / iters;
  llama_sampler_free(s);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> models;
  int n = 128, rounds = 7, threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "telltale_llama_bench: option %s needs a value\n", a.c_str());
      return 2;
    }
    std::string v = argv[++i];
    if (a == "--model") {
      models.push_back(v);
    } else if (a == "-n" || a == "--rounds" || a == "--threads") {
      int x = std::atoi(v.c_str());
      if (x < 1) {
        std::fprintf(stderr, "telltale_llama_bench: %s must be a positive integer, got '%s'\n", a.c_str(), v.c_str());
        return 2;
      }
      (a == "-n" ? n : a == "--rounds" ? rounds : threads) = x;
    } else {
      std::fprintf(stderr, "telltale_llama_bench: unknown option %s\n", a.c_str());
      return 2;
    }
  }
  if (models.empty()) {
    std::fprintf(stderr, "telltale_llama_bench: at least one --model is required\n");
    return 2;
  }
  std::vector<uint8_t> key_bytes(32, 0x5a);
  telltale::SecretKey key = telltale::SecretKey::FromBytes(key_bytes).value();
  std::printf("%-28s %-26s %8s %12s %12s %8s %8s %13s %12s %12s\n", "model", "scheme", "vocab", "base tok/s",
              "wm tok/s", "ratio", "loss %", "loss IQR %", "sampler us", "dense-row us");
  struct InterleavedRow {
    std::string model, scheme;
    Interleaved x;
  };
  std::vector<InterleavedRow> interleaved_rows;
  for (const std::string& path : models) {
    auto gen = telltale::LlamaGeneration::Load(path, {.n_ctx = n + 64, .n_threads = threads});
    if (!gen.ok()) {
      std::fprintf(stderr, "telltale_llama_bench: %s\n", gen.status().message().c_str());
      return 2;
    }
    std::vector<int32_t> prompt = (*gen)->Tokenize("It is a truth universally acknowledged, that", true).value();
    {
      // A/A control: the baseline chain against an identical one, i.e. the
      // noise floor of the ratios below on this machine.
      llama_sampler* a = Chain(**gen, nullptr);
      llama_sampler* b = Chain(**gen, nullptr);
      TokensPerSecond(**gen, a, prompt, n);  // warm-up
      const Paired pr = MeasurePaired(**gen, a, b, prompt, n, rounds);
      std::string name = path.substr(path.find_last_of('/') + 1);
      std::printf("%-28s %-26s %8d %12.1f %12.1f %8.4f %8.2f %13s %12s %12s\n", name.c_str(),
                  "(A/A control: no watermark)", (*gen)->n_vocab(), pr.base, pr.with, pr.ratio.median,
                  (1 - pr.ratio.median) * 100, pr.LossRange().c_str(), "-", "-");
      llama_sampler_free(a);
      llama_sampler_free(b);
    }
    {
      // Interleaved A/A control: two identical baseline chains.
      llama_sampler* a = Chain(**gen, nullptr);
      llama_sampler* b = Chain(**gen, nullptr);
      interleaved_rows.push_back({path.substr(path.find_last_of('/') + 1), "(A/A control: no watermark)",
                                  MeasureInterleaved(**gen, a, b, prompt, n, rounds)});
      llama_sampler_free(a);
      llama_sampler_free(b);
    }
    for (const char* spec : {"kgw:gamma=0.25,delta=2,h=1", "gumbel:h=1"}) {
      auto wm = std::make_shared<const telltale::Watermarker>(
          telltale::Watermarker::Create(key, telltale::SchemeSpec::Parse(spec).value()).value());
      llama_sampler* base = Chain(**gen, nullptr);
      llama_sampler* with = Chain(**gen, wm);
      TokensPerSecond(**gen, base, prompt, n);  // warm-up
      const Paired pr = MeasurePaired(**gen, base, with, prompt, n, rounds);
      std::string name = path.substr(path.find_last_of('/') + 1);
      const SamplerTimes st = TimeSampler(wm, (*gen)->n_vocab());
      std::printf("%-28s %-26s %8d %12.1f %12.1f %8.4f %8.2f %13s %12.1f %12.1f\n", name.c_str(), spec,
                  (*gen)->n_vocab(), pr.base, pr.with, pr.ratio.median, (1 - pr.ratio.median) * 100,
                  pr.LossRange().c_str(), st.sampler_us, st.dense_us);
      std::fflush(stdout);
      interleaved_rows.push_back({name, spec, MeasureInterleaved(**gen, base, with, prompt, n, rounds)});
      llama_sampler_free(base);
      llama_sampler_free(with);
    }
  }
  std::printf("\nInterleaved per-token A/B (%d rounds of %d tokens; per-token CPU us, medians over rounds; loss = "
              "(wm - base) / (decode + base))\n", rounds, n);
  std::printf("%-28s %-28s %10s %10s %10s %8s %15s\n", "model", "scheme", "decode us", "base us", "wm us", "loss %",
              "loss IQR %");
  for (const auto& [model, scheme, x] : interleaved_rows) {
    std::printf("%-28s %-28s %10.1f %10.1f %10.1f %8.3f %7.3f..%-7.3f\n", model.c_str(), scheme.c_str(), x.decode_us,
                x.base_us, x.with_us, x.loss.median * 100, x.loss.q1 * 100, x.loss.q3 * 100);
  }
  return 0;
}
