// Tokens/s through libllama with and without the telltale watermark sampler.
//
//   telltale_llama_bench --model reflm.gguf --model random-llama3-vocab.gguf [-n 128] [--rounds 7]
//
// For each model and scheme it generates n tokens per run with
//   baseline:  top-k 40 -> top-p 0.95 -> temp 0.8 -> dist
//   watermark: kgw (first in chain) or gumbel (in place of dist) + the same,
// alternating baseline and watermark runs so that machine load hits both
// alike, and prints the median tokens per CPU-second of each (one llama
// thread, so CPU time is the generation work), their ratio and the loss.
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
  std::printf("%-28s %-26s %8s %12s %12s %8s %8s %12s %12s\n", "model", "scheme", "vocab", "base tok/s",
              "wm tok/s", "ratio", "loss %", "sampler us", "dense-row us");
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
      TokensPerSecond(**gen, a, prompt, n);
      std::vector<double> ta, tb;
      for (int r = 0; r < rounds; ++r) {
        if (r % 2 == 0) ta.push_back(TokensPerSecond(**gen, a, prompt, n));
        tb.push_back(TokensPerSecond(**gen, b, prompt, n));
        if (r % 2 == 1) ta.push_back(TokensPerSecond(**gen, a, prompt, n));
      }
      const double ma = Median(ta), mb = Median(tb);
      std::string name = path.substr(path.find_last_of('/') + 1);
      std::printf("%-28s %-26s %8d %12.1f %12.1f %8.4f %8.2f %12s %12s\n", name.c_str(),
                  "(A/A control: no watermark)", (*gen)->n_vocab(), ma, mb, mb / ma, (1 - mb / ma) * 100, "-", "-");
      llama_sampler_free(a);
      llama_sampler_free(b);
    }
    for (const char* spec : {"kgw:gamma=0.25,delta=2,h=1", "gumbel:h=1"}) {
      auto wm = std::make_shared<const telltale::Watermarker>(
          telltale::Watermarker::Create(key, telltale::SchemeSpec::Parse(spec).value()).value());
      llama_sampler* base = Chain(**gen, nullptr);
      llama_sampler* with = Chain(**gen, wm);
      TokensPerSecond(**gen, base, prompt, n);  // warm-up
      std::vector<double> b, w;
      for (int r = 0; r < rounds; ++r) {
        // Alternate which goes first, so order effects cancel.
        if (r % 2 == 0) b.push_back(TokensPerSecond(**gen, base, prompt, n));
        w.push_back(TokensPerSecond(**gen, with, prompt, n));
        if (r % 2 == 1) b.push_back(TokensPerSecond(**gen, base, prompt, n));
      }
      const double mb = Median(b), mw = Median(w);
      std::string name = path.substr(path.find_last_of('/') + 1);
      const SamplerTimes st = TimeSampler(wm, (*gen)->n_vocab());
      std::printf("%-28s %-26s %8d %12.1f %12.1f %8.4f %8.2f %12.1f %12.1f\n", name.c_str(), spec, (*gen)->n_vocab(),
                  mb, mw, mw / mb, (1 - mw / mb) * 100, st.sampler_us, st.dense_us);
      std::fflush(stdout);
      llama_sampler_free(base);
      llama_sampler_free(with);
    }
  }
  return 0;
}
