// Core engine benchmarks: one generation step (Apply / Sample) across
// vocabulary sizes and batch sizes, and detection throughput in tokens/s.
// Every figure is printed beside a baseline measured in the same run (see
// reference_style.h), as a ratio, so results stay meaningful on a noisy
// shared machine. Times and rates are CPU time of one thread (wall time on a
// shared 2-core machine counts other processes too). Pin it to one core:
//   taskset -c 0 build/bench/telltale_core_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>

#include "bench/reference_style.h"
#include "crypto/secret_key.h"
#include "detect/detector.h"
#include "watermark/simulated_generation.h"
#include "watermark/watermarker.h"

namespace telltale {
namespace {

SecretKey BenchKey() {
  std::array<uint8_t, kSecretKeyBytes> b{};
  for (size_t i = 0; i < b.size(); ++i) b[i] = static_cast<uint8_t>(i * 13 + 1);
  return SecretKey::FromBytes(b).value();
}

// A zeroed float buffer aligned to 64 bytes.
class AlignedFloats {
 public:
  explicit AlignedFloats(size_t n) : data_(static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64))) {
    std::fill(data_, data_ + n, 0.0f);
  }
  ~AlignedFloats() { std::free(data_); }
  AlignedFloats(const AlignedFloats&) = delete;
  AlignedFloats& operator=(const AlignedFloats&) = delete;
  float* data() { return data_; }

 private:
  float* data_;
};

const char* kGenSchemes[] = {"kgw:gamma=0.5,delta=2,h=1", "kgw:gamma=0.25,delta=2,h=1", "kgw:gamma=0.125,delta=2,h=1",
                             "kgw:gamma=0.3,delta=2,h=1", "unigram:gamma=0.5,delta=2",
                             "kgw:gamma=0.25,delta=2,h=4,seeding=self"};
const int64_t kVocabs[] = {32000, 50257, 128256, 151936, 262144};

void BM_Apply(benchmark::State& state) {
  const SchemeSpec spec = SchemeSpec::Parse(kGenSchemes[state.range(0)]).value();
  const int64_t vocab = state.range(1), batch = state.range(2);
  const Watermarker wm = Watermarker::Create(BenchKey(), spec).value();
  // 64-byte aligned rows, as torch's CPU allocator and inference engines
  // hand them out (an unaligned row costs ~1 us more: split cache lines).
  const int64_t stride = (vocab + 15) / 16 * 16;
  AlignedFloats logits(static_cast<size_t>(stride * batch));
  std::vector<int32_t> tokens;
  std::vector<int64_t> offsets = {0};
  for (int64_t b = 0; b < batch; ++b) {
    for (int k = 0; k < 8; ++k) tokens.push_back(static_cast<int32_t>((b * 131 + k * 7) % vocab));
    offsets.push_back(static_cast<int64_t>(tokens.size()));
  }
  int32_t step = 0;
  for (auto _ : state) {
    tokens.back() = step++ % static_cast<int32_t>(vocab);  // a new context each step
    LogitsMatrixMap map(logits.data(), batch, vocab, Eigen::OuterStride<>(stride));
    benchmark::DoNotOptimize(wm.ApplyBatch(tokens, offsets, map).ok());
    benchmark::ClobberMemory();
  }
  state.SetLabel(spec.ToString());
}

void BM_ReferenceApply(benchmark::State& state) {
  const int64_t vocab = state.range(1);
  bench::ReferenceStyleKgw ref(vocab, 0.25, 2.0f, 42);
  std::vector<float> logits(static_cast<size_t>(vocab), 0.0f);
  int32_t prev = 0;
  for (auto _ : state) {
    ref.Apply(prev++ % static_cast<int32_t>(vocab), logits.data());
    benchmark::ClobberMemory();
  }
  state.SetLabel("reference-style kgw gamma=0.25 (randperm per step)");
}

void BM_GumbelSample(benchmark::State& state) {
  const int64_t vocab = state.range(1);
  const Watermarker wm = Watermarker::Create(BenchKey(), SchemeSpec::Parse("gumbel:h=1").value()).value();
  std::vector<float> logits(static_cast<size_t>(vocab));
  std::mt19937 rng(1);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  for (float& v : logits) v = normal(rng);
  SampleWorkspace ws;
  uint64_t state_rng = 1;
  std::vector<int32_t> ctx = {1};
  SamplingParams params;
  params.top_k = static_cast<int32_t>(state.range(2));
  for (auto _ : state) {
    ctx[0] = (ctx[0] + 1) % static_cast<int32_t>(vocab);
    benchmark::DoNotOptimize(wm.Sample(ctx, logits, params, state_rng, ws).ok());
  }
  state.SetLabel(params.top_k ? "gumbel.v1 sample, top-k " + std::to_string(params.top_k) : "gumbel.v1 sample, full vocab");
}

// Documents from the simulated LM, 1000 tokens each.
const std::vector<std::vector<int32_t>>& Documents() {
  static const auto docs = [] {
    std::vector<std::vector<int32_t>> out;
    const SimulatedLm lm = SimulatedLm::Create(128256, SimulatedLm::ExponentForEntropy(128256, 4.0), 3).value();
    for (int i = 0; i < 200; ++i) {
      SimulatedGenerationParams p;
      p.length = 1000;
      p.seed = static_cast<uint64_t>(i);
      out.push_back(GenerateSimulated(lm, nullptr, p).value());
    }
    return out;
  }();
  return docs;
}

const char* kDetectSchemes[] = {"kgw:gamma=0.25,h=1", "kgw:gamma=0.25,h=4", "kgw:gamma=0.25,h=4,seeding=self",
                                "unigram:gamma=0.5", "gumbel:h=1"};

void BM_Detect(benchmark::State& state) {
  const SchemeSpec spec = SchemeSpec::Parse(kDetectSchemes[state.range(0)]).value();
  const Detector det = Detector::Create(BenchKey(), spec).value();
  DetectOptions opt;
  opt.per_token = false;
  opt.dedup = state.range(1) ? DedupMode::kContextToken : DedupMode::kNone;
  const auto& docs = Documents();
  int64_t tokens = 0;
  size_t i = 0;
  for (auto _ : state) {
    const auto& d = docs[i++ % docs.size()];
    benchmark::DoNotOptimize(det.Score(d, opt)->log10_p);
    tokens += static_cast<int64_t>(d.size());
  }
  state.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.SetLabel(spec.PrfIdentity() + (state.range(1) ? ", dedup context+token" : ", dedup none"));
}

void BM_ReferenceDetect(benchmark::State& state) {
  bench::ReferenceStyleKgw ref(128256, 0.25, 2.0f, 42);
  const auto& doc = Documents()[0];
  int64_t tokens = 0;
  size_t i = 1;
  for (auto _ : state) {
    benchmark::DoNotOptimize(ref.IsGreen(doc[i - 1], doc[i]));
    i = i % (doc.size() - 1) + 1;
    ++tokens;
  }
  state.counters["tokens_per_s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
  state.SetLabel("reference-style kgw detection, V=128256");
}

void RegisterAll() {
  for (int s = 0; s < 6; ++s) {
    for (int64_t v : kVocabs) {
      for (int64_t b : {1, 64}) {
        if (s == 5 && b == 64) continue;  // self-seeding costs V blocks/row: batch 1 shows it
        benchmark::RegisterBenchmark("Apply", BM_Apply)->Args({s, v, b})->Unit(benchmark::kMicrosecond);
      }
    }
  }
  for (int64_t v : {32000, 128256}) {
    benchmark::RegisterBenchmark("ReferenceApply", BM_ReferenceApply)->Args({0, v, 1})->Unit(benchmark::kMicrosecond);
  }
  for (int64_t v : {32000, 128256}) {
    for (int64_t k : {0, 50}) {
      benchmark::RegisterBenchmark("GumbelSample", BM_GumbelSample)->Args({0, v, k})->Unit(benchmark::kMicrosecond);
    }
  }
  for (int s = 0; s < 5; ++s) {
    for (int dedup : {1, 0}) benchmark::RegisterBenchmark("Detect", BM_Detect)->Args({s, dedup})->Unit(benchmark::kMicrosecond);
  }
  benchmark::RegisterBenchmark("ReferenceDetect", BM_ReferenceDetect)->Unit(benchmark::kMicrosecond);
}

// Collects results so the ratio table can be printed after the runs.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& r : runs) {
      // With --benchmark_repetitions the median stands for the run; the
      // other aggregates (mean, stddev, cv) are not times to divide by.
      if (r.run_type == Run::RT_Aggregate && r.aggregate_name != "median") continue;
      results_.push_back({r.benchmark_name(), r.report_label, r.GetAdjustedCPUTime(),
                          r.counters.count("tokens_per_s") ? static_cast<double>(r.counters.at("tokens_per_s")) : 0.0});
    }
  }
  void PrintRatios() const {
    double ref_apply_128k = 0, ref_detect = 0;
    for (const auto& r : results_) {
      if (r.name.rfind("ReferenceApply", 0) == 0 && r.name.find("/128256/") != std::string::npos) ref_apply_128k = r.time;
      if (r.name.rfind("ReferenceDetect", 0) == 0) ref_detect = r.tokens_per_s;
    }
    std::printf("\n== Ratios against the reference-style baseline measured in this run ==\n");
    for (const auto& r : results_) {
      if (r.name.rfind("Apply/", 0) == 0 && r.name.find("/128256/1") != std::string::npos && ref_apply_128k > 0) {
        std::printf("generation step V=128256 batch 1  %-55s %9.2f us  %8.0fx faster than baseline (%.1f us)\n",
                    r.label.c_str(), r.time, ref_apply_128k / r.time, ref_apply_128k);
      }
      if (r.name.rfind("Detect/", 0) == 0 && ref_detect > 0) {
        std::printf("detection  %-55s %7.1f M tokens/s  %9.0fx baseline (%.0f tokens/s)\n", r.label.c_str(),
                    r.tokens_per_s / 1e6, r.tokens_per_s / ref_detect, ref_detect);
      }
    }
  }

 private:
  struct Result {
    std::string name, label;
    double time, tokens_per_s;
  };
  std::vector<Result> results_;
};

}  // namespace
}  // namespace telltale

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  telltale::RegisterAll();
  telltale::RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  benchmark::Shutdown();
  return 0;
}
