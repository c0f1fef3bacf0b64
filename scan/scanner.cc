#include "scan/scanner.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <mutex>
#include <optional>
#include <thread>

#include <pthread.h>
#include <sched.h>

#include "detect/attribution.h"
#include "detect/detection_report.h"
#include "scan/buffer_pool.h"

namespace telltale::scan {
namespace {

struct Work {
  uint64_t seq;
  InputItem item;
};

// The reader-to-workers queue, a ring. A std::deque allocated a block every
// three items on the reader and freed it on a worker; the scan never queues
// more than its in-flight bound, so the ring is sized once (and grows, should
// that ever change).
class WorkQueue {
 public:
  explicit WorkQueue(size_t capacity) : slots_(std::max<size_t>(capacity, 1)) {}
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  Work& front() { return slots_[head_]; }
  void pop_front() {
    head_ = (head_ + 1) % slots_.size();
    --size_;
  }
  void push_back(Work&& w) {
    if (size_ == slots_.size()) {
      std::vector<Work> grown(2 * slots_.size());
      for (size_t i = 0; i < size_; ++i) grown[i] = std::move(slots_[(head_ + i) % slots_.size()]);
      slots_.swap(grown);
      head_ = 0;
    }
    slots_[(head_ + size_) % slots_.size()] = std::move(w);
    ++size_;
  }

 private:
  std::vector<Work> slots_;
  size_t head_ = 0, size_ = 0;
};

// Everything a worker needs, shared read-only.
struct WorkerContext {
  const ScanConfig* config;
  const TextNormalizer* normalizer;
  CorpusTest* corpus;
  DetectOptions detect;
  double log10_alpha;
  // Detection feeds the corpus test (CorpusTest::AddScoredTuples); CorpusTest::Create
  // already required one scheme for all keys, as ScoreKeys does.
  bool fused_corpus;
};


// The reader and the emitter spend most of their time waiting, and are
// woken about once per batch. As ordinary threads each wake-up preempted a
// worker in mid-slice (2,600 involuntary context switches in a two-worker
// scan of 48 MB on two cores); under SCHED_BATCH a wake-up does not preempt,
// the woken thread runs at the next scheduling point (160-270 switches, and
// 25-40% less system time). They still get their fair share of the CPU. Only an
// ordinary (SCHED_OTHER) thread is changed, and it is restored on scope exit.
class BatchScheduling {
 public:
  BatchScheduling() {
    if (pthread_getschedparam(pthread_self(), &policy_, &param_) != 0 || policy_ != SCHED_OTHER) return;
    sched_param batch{};
    changed_ = pthread_setschedparam(pthread_self(), SCHED_BATCH, &batch) == 0;
  }
  ~BatchScheduling() {
    if (changed_) pthread_setschedparam(pthread_self(), policy_, &param_);
  }
  BatchScheduling(const BatchScheduling&) = delete;
  BatchScheduling& operator=(const BatchScheduling&) = delete;

 private:
  int policy_ = SCHED_OTHER;
  sched_param param_{};
  bool changed_ = false;
};

DocumentResult ErrorResult(DocumentResult r, const std::string& reason) {
  r.kind = ResultKind::kError;
  r.reason = reason;
  return r;
}

// Starts loading the first 4 KiB of a document the reader wrote: its lines
// are in the reader's core's cache, and the first touch (the normalizer's
// copy) waited on each of them in turn, 4% of a worker's time with ~220-byte
// documents. Issued one document ahead, the transfer overlaps the work on
// the one before.
void PrefetchText(const std::string& text) {
  const size_t n = std::min<size_t>(text.size(), 4096);
  for (size_t at = 0; at < n; at += 64) __builtin_prefetch(text.data() + at);
}

// `spare_keys`: recycled storage for the result's key scores (BufferPool).
DocumentResult ProcessItem(const WorkerContext& ctx, InputItem&& item,
                           std::vector<std::vector<KeyScore>>* spare_keys) {
  DocumentResult r;
  r.index = item.index;
  r.source = std::move(item.source);
  r.line = item.line;
  r.input_bytes = item.input_bytes;
  if (item.kind == ItemKind::kSkipped) {
    r.kind = ResultKind::kSkipped;
    r.reason = std::move(item.reason);
    return r;
  }
  if (item.kind == ItemKind::kError) return ErrorResult(std::move(r), item.reason);
  r.bytes = item.text.size();
  if (item.text.size() >= (uint64_t{1} << 32)) {
    return ErrorResult(std::move(r), "document of " + std::to_string(item.text.size()) +
                                         " bytes is too large to tokenize (limit 4 GiB)");
  }
  // Per thread so that their buffers are reused from document to document
  // (with short documents the allocations were a visible part of the scan)...
  thread_local tokenize::NormalizedText norm;
  thread_local tokenize::Encoding encoding;
  thread_local std::vector<int32_t> tokens;
  thread_local Attribution attribution;
  // ... but not a long document's, once a shorter one comes. The encoding
  // holds at most one token per byte of the normalized text, so it is only
  // large where `norm` is.
  if (norm.text().capacity() > (size_t{4} << 20) && item.text.size() < norm.text().capacity() / 4) {
    norm = tokenize::NormalizedText();
    encoding = tokenize::Encoding();
    tokens = std::vector<int32_t>();
  }
  if (Status st = ctx.normalizer->Apply(item.text, &norm); !st.ok()) {
    return ErrorResult(std::move(r), "normalization failed: " + st.message());
  }
  if (Status st = ctx.config->tokenizer->EncodeInto(norm.text(), &encoding); !st.ok()) {
    return ErrorResult(std::move(r), "tokenization failed: " + st.message());
  }
  const tokenize::Encoding& enc = encoding;
  tokens.resize(enc.ids.size());
  for (size_t i = 0; i < tokens.size(); ++i) {
    if (enc.ids[i] > static_cast<uint32_t>(INT32_MAX)) {
      return ErrorResult(std::move(r), "token id " + std::to_string(enc.ids[i]) + " does not fit the detector");
    }
    tokens[i] = static_cast<int32_t>(enc.ids[i]);
  }
  // One pass over the document gives every key's detection and the corpus
  // test's tuples (when the corpus test can take them that way).
  thread_local std::vector<uint64_t> corpus_fps;
  thread_local std::vector<int32_t> corpus_ids;
  corpus_fps.clear();
  corpus_ids.clear();
  const TupleSink collect = [&ctx](std::span<const uint64_t> fps, std::span<const int32_t> ids) {
    ctx.corpus->PrefetchRecent(fps);
    corpus_fps.insert(corpus_fps.end(), fps.begin(), fps.end());
    corpus_ids.insert(corpus_ids.end(), ids.begin(), ids.end());
  };
  if (Status st = AttributeKeysInto(ctx.config->detectors, tokens, ctx.detect, ctx.fused_corpus ? &collect : nullptr,
                                    &attribution);
      !st.ok()) {
    return ErrorResult(std::move(r), "detection failed: " + st.message());
  }
  const Attribution& att = attribution;
  const Status corpus_status =
      ctx.fused_corpus
          ? ctx.corpus->AddScoredTuples(corpus_fps, corpus_ids, static_cast<uint64_t>(att.per_key[0].candidates))
          : ctx.corpus->AddDocument(tokens, ctx.detect);
  if (!corpus_status.ok()) return ErrorResult(std::move(r), "corpus test failed: " + corpus_status.message());
  const Detection& best = att.per_key[att.best];
  r.best_key = static_cast<int>(att.best);
  r.tokens = best.tokens;
  r.scored = best.scored;
  r.score = best.score;
  r.expected = best.expected;
  r.z = best.z;
  r.log10_p = att.holm_log10_p[att.best];
  r.log10_p_raw = best.log10_p;
  r.decision_log10_p = DecisionLog10P(att, ctx.detect.window_search);
  r.detected = r.decision_log10_p <= ctx.log10_alpha;
  BufferPool::Reuse(spare_keys, &r.keys);
  r.keys.reserve(att.per_key.size());
  for (size_t k = 0; k < att.per_key.size(); ++k) {
    r.keys.push_back({att.per_key[k].log10_p, att.holm_log10_p[k]});
  }
  if (best.window) {
    const WindowMatch& w = *best.window;
    r.window = DocumentResult::Window{w.begin, w.end, w.scored, w.windows_tested, w.score, w.log10_p,
                                      w.log10_p_corrected};
  }
  // Token byte ranges in the original text: tokenizer offsets are into the
  // normalized text, and the normalizer's alignment maps those back.
  auto orig = [&](size_t i, uint32_t* b, uint32_t* e) {
    const tokenize::TokenSpan s = enc.offsets[i];
    if (s.end > s.begin) {
      norm.OrigRange(s.begin, s.end, b, e);
    } else {
      norm.OrigRange(s.begin, s.begin + 1 <= norm.text().size() ? s.begin + 1 : s.begin, b, e);
      *e = *b;
    }
  };
  if (r.detected && !best.spans.empty()) {
    for (const WindowMatch& w : best.spans) {
      uint32_t b0, e0, b1, e1;
      orig(static_cast<size_t>(w.begin), &b0, &e0);
      orig(static_cast<size_t>(w.end - 1), &b1, &e1);
      r.spans.push_back({b0, std::max(e0, e1)});
    }
  } else if (r.detected && !tokens.empty()) {
    // No single window is significant (or window search is off): the mark is
    // spread over the document, so the span is its scored range.
    int64_t first = -1, last = -1;
    if (r.window) {
      first = r.window->begin;
      last = r.window->end - 1;
    } else {
      const std::vector<int8_t>* marks = &best.token_mask;
      std::optional<Detection> again;
      if (marks->empty()) {  // scored without per-token output: the best key again, with it
        DetectOptions with_marks = ctx.detect;
        with_marks.per_token = true;
        with_marks.window_search = false;
        StatusOr<Detection> scored = ctx.config->detectors[att.best]->Score(tokens, with_marks);
        if (!scored.ok()) return ErrorResult(std::move(r), "detection failed: " + scored.status().message());
        again = std::move(*scored);
        marks = &again->token_mask;
      }
      for (int64_t i = 0; i < best.tokens; ++i) {
        if ((*marks)[static_cast<size_t>(i)] >= 0) {
          if (first < 0) first = i;
          last = i;
        }
      }
    }
    if (first >= 0) {
      uint32_t b0, e0, b1, e1;
      orig(static_cast<size_t>(first), &b0, &e0);
      orig(static_cast<size_t>(last), &b1, &e1);
      r.spans.push_back({b0, std::max(e0, e1)});
    }
  }
  if (ctx.config->token_view) {
    r.token_view.reserve(tokens.size());
    for (size_t i = 0; i < tokens.size(); ++i) {
      uint32_t b, e;
      orig(i, &b, &e);
      r.token_view.push_back({b, e, best.token_mask[i], best.token_scores[i]});
    }
  }
  if (ctx.config->keep_text) r.text = std::move(item.text);
  return r;
}

}  // namespace

StatusOr<ScanSummary> RunScan(const ScanConfig& config, const ResultSink& sink, const ProgressFn& progress) {
  if (config.detectors.empty()) return Status::InvalidArgument("scan needs at least one key (--key or --keys-dir)");
  if (config.tokenizer == nullptr) return Status::InvalidArgument("scan needs a tokenizer (--tokenizer FILE)");
  if (!(config.alpha > 0 && config.alpha < 1)) return Status::InvalidArgument("--alpha must lie in (0, 1)");
  if (config.threads < 1) return Status::InvalidArgument("--threads must be at least 1");
  TT_ASSIGN_OR_RETURN(TextNormalizer normalizer, TextNormalizer::Create(config.normalize));
  TT_ASSIGN_OR_RETURN(std::unique_ptr<DocumentSource> source, DocumentSource::Open(config.input));
  CorpusTestOptions corpus_options = config.corpus;
  if (corpus_options.threads == 0) corpus_options.threads = config.threads;
  TT_ASSIGN_OR_RETURN(std::unique_ptr<CorpusTest> corpus, CorpusTest::Create(config.detectors, corpus_options));

  WorkerContext wctx{&config, &normalizer, corpus.get(), config.detect, std::log10(config.alpha),
                     !corpus->has_context_filter() && config.detect.dedup != DedupMode::kContext};
  wctx.detect.per_token = config.token_view;
  // Spans answer "where is the mark": the significant windows of the best key.
  if (wctx.detect.window_search) {
    wctx.detect.span_log10_threshold = SpanLog10Threshold(config.alpha, config.detectors.size());
  }

  // Items move between threads in batches of up to kBatch items or about
  // kBatchBytes: each hand-off costs a lock and often a wake-up and context
  // switch, which with short documents (English JSONL, ~220 bytes each) cost
  // 8-10% of two workers' throughput at 32 items per batch.
  constexpr size_t kBatch = 128;
  constexpr uint64_t kBatchBytes = uint64_t{1} << 20;
  // In flight: handed to the workers and not yet emitted. Bounded in items
  // (> kBatch: a whole batch always fits) and in input bytes, so that long
  // documents cannot pile up; a batch may exceed the byte bound when nothing
  // else is in flight (a document longer than the bound).
  const uint64_t max_in_flight = 2 * kBatch * uint64_t{config.threads} + 1024;
  const uint64_t max_in_flight_bytes = config.max_in_flight_bytes > 0
                                           ? config.max_in_flight_bytes
                                           : (uint64_t{64} << 20) * (uint64_t{config.threads} + 1);
  uint64_t in_flight_bytes = 0;
  // A batch is a small part of the byte bound, so that the batch the reader
  // holds while it waits adds little to it.
  const uint64_t batch_bytes = std::clamp<uint64_t>(max_in_flight_bytes / 4, 1, kBatchBytes);
  std::mutex mu;
  std::condition_variable work_cv, result_cv, space_cv;
  WorkQueue queue(max_in_flight);
  // Results wait for their turn in a ring indexed by sequence number: the
  // reader never lets a sequence number get max_in_flight ahead of the next
  // one to emit, so slots are never shared.
  std::vector<std::optional<DocumentResult>> ready(max_in_flight);
  auto slot = [&](uint64_t seq) -> std::optional<DocumentResult>& { return ready[seq % max_in_flight]; };
  uint64_t next_seq = 0, next_emit = 0;
  bool reader_done = false, abort = false, stopped = false;
  Status reader_status = Status::Ok();
  std::atomic<uint64_t> disk_bytes{0};
  std::atomic<size_t> queued{0};  // queue.size(), readable without the lock
  BufferPool pool(max_in_flight);  // guarded by mu
  const uint64_t total_disk = source->total_bytes_hint();

  std::thread reader([&] {
    BatchScheduling batch_scheduling;
    // Items are handed over in batches (one lock and one wake-up per batch),
    // but only from files: a pipe may pause between lines, and an item must
    // not wait for the next one. Whenever the workers have run dry, the batch
    // goes at once.
    const bool batch_reads = total_disk > 0;
    std::vector<std::string> texts, sources;  // taken from the pool
    std::vector<InputItem> pending;
    uint64_t pending_bytes = 0;
    auto hand_over = [&]() -> bool {  // false once the scan is aborted
      if (pending.empty()) return true;
      std::unique_lock<std::mutex> lock(mu);
      space_cv.wait(lock, [&] {
        return abort || (next_seq + pending.size() - next_emit <= max_in_flight &&
                         (in_flight_bytes == 0 || in_flight_bytes + pending_bytes <= max_in_flight_bytes));
      });
      if (abort) return false;
      pool.TakeTexts(&texts);
      pool.TakeSources(&sources);
      for (InputItem& item : pending) queue.push_back(Work{next_seq++, std::move(item)});
      queued.store(queue.size(), std::memory_order_relaxed);
      in_flight_bytes += pending_bytes;
      pending.clear();
      pending_bytes = 0;
      work_cv.notify_all();
      return true;
    };
    for (;;) {
      if (config.stop != nullptr && config.stop->load()) {
        hand_over();  // what was read is scanned
        std::lock_guard<std::mutex> lock(mu);
        stopped = true;
        break;
      }
      InputItem item;
      BufferPool::Reuse(&texts, &item.text);
      BufferPool::Reuse(&sources, &item.source);
      StatusOr<bool> more = source->Next(&item);
      if (!more.ok()) {
        hand_over();
        std::lock_guard<std::mutex> lock(mu);
        reader_status = more.status();
        break;
      }
      if (!*more) break;
      disk_bytes.store(source->disk_bytes_read(), std::memory_order_relaxed);
      pending_bytes += item.input_bytes;
      pending.push_back(std::move(item));
      if ((!batch_reads || pending.size() >= kBatch || pending_bytes >= batch_bytes ||
           queued.load(std::memory_order_relaxed) == 0) &&
          !hand_over()) {
        break;
      }
    }
    hand_over();
    std::lock_guard<std::mutex> lock(mu);
    reader_done = true;
    work_cv.notify_all();
    result_cv.notify_all();
  });

  // Workers take items in batches: one lock round-trip and at most one
  // wake-up per batch instead of per document (thread hand-offs dominated
  // the profile with small documents).
  std::vector<std::thread> workers;
  for (unsigned t = 0; t < config.threads; ++t) {
    workers.emplace_back([&] {
      std::vector<Work> batch;
      std::vector<std::pair<uint64_t, DocumentResult>> done;
      std::vector<std::vector<KeyScore>> keys;  // taken from the pool
      for (;;) {
        batch.clear();
        {
          std::unique_lock<std::mutex> lock(mu);
          work_cv.wait(lock, [&] { return abort || reader_done || !queue.empty(); });
          if (abort || queue.empty()) return;
          const size_t share = std::max<size_t>(1, std::min(kBatch, queue.size() / config.threads));
          uint64_t taken_bytes = 0;
          for (size_t i = 0; i < share && !queue.empty() && taken_bytes < batch_bytes; ++i) {
            taken_bytes += queue.front().item.input_bytes;
            batch.push_back(std::move(queue.front()));
            queue.pop_front();
          }
          queued.store(queue.size(), std::memory_order_relaxed);
          pool.TakeKeys(&keys);
        }
        done.clear();
        for (size_t j = 0; j < batch.size(); ++j) {
          if (j + 1 < batch.size()) PrefetchText(batch[j + 1].item.text);
          done.emplace_back(batch[j].seq, ProcessItem(wctx, std::move(batch[j].item), &keys));
        }
        std::lock_guard<std::mutex> lock(mu);
        for (Work& w : batch) pool.GiveText(std::move(w.item.text));
        bool wake = false;
        for (auto& [seq, r] : done) {
          wake |= seq == next_emit;
          slot(seq).emplace(std::move(r));
        }
        if (wake) result_cv.notify_one();  // only the emitter waits here, for next_emit
      }
    });
  }

  // The calling thread is the emitter until the workers are done (created
  // after the workers, which would otherwise inherit the policy).
  std::optional<BatchScheduling> emitter_scheduling;
  emitter_scheduling.emplace();
  ScanSummary summary;
  summary.detected_per_key.assign(config.detectors.size(), 0);
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  Status sink_status = Status::Ok();
  auto report_progress = [&] {
    if (!progress) return;
    ScanProgress p;
    p.items = summary.items;
    p.documents = summary.documents;
    p.input_bytes = summary.input_bytes;
    p.disk_bytes = disk_bytes.load(std::memory_order_relaxed);
    p.total_disk_bytes = total_disk;
    p.seconds = elapsed();
    progress(p);
  };
  // The emitter takes every result that is next in order under one lock,
  // then hands them to the sink outside it.
  std::vector<DocumentResult> in_order;
  // Results count against the byte bound until the sink has them.
  uint64_t emitted_bytes = 0;
  // The reader waits for room for a batch; waking it only once half the
  // window is free lets it hand over several batches per wake-up instead of
  // being woken (mostly in vain) after every emission.
  auto wake_reader_locked = [&] {
    if (next_seq - next_emit <= max_in_flight / 2 && in_flight_bytes <= max_in_flight_bytes / 2) {
      space_cv.notify_one();
    }
  };
  while (sink_status.ok()) {
    {
      std::unique_lock<std::mutex> lock(mu);
      for (DocumentResult& r : in_order) {
        pool.GiveSource(std::move(r.source));
        pool.GiveKeys(std::move(r.keys));
      }
      in_order.clear();
      if (emitted_bytes > 0) {
        in_flight_bytes -= emitted_bytes;
        emitted_bytes = 0;
        wake_reader_locked();
      }
      result_cv.wait_for(lock, std::chrono::milliseconds(200), [&] {
        return slot(next_emit).has_value() || (reader_done && next_emit == next_seq);
      });
      while (next_emit < next_seq && slot(next_emit).has_value()) {
        emitted_bytes += slot(next_emit)->input_bytes;
        in_order.push_back(std::move(*slot(next_emit)));
        slot(next_emit).reset();
        ++next_emit;
      }
      if (in_order.empty()) {
        if (reader_done && next_emit == next_seq) break;
        lock.unlock();
        report_progress();
        continue;
      }
      wake_reader_locked();
    }
    for (DocumentResult& r : in_order) {
      ++summary.items;
      summary.input_bytes += r.input_bytes;
      switch (r.kind) {
        case ResultKind::kDocument:
          ++summary.documents;
          summary.bytes += r.bytes;
          summary.tokens += static_cast<uint64_t>(r.tokens);
          if (r.detected) {
            ++summary.detected;
            ++summary.detected_per_key[static_cast<size_t>(r.best_key)];
          }
          break;
        case ResultKind::kSkipped: ++summary.skipped; break;
        case ResultKind::kError: ++summary.failed; break;
      }
      sink_status = sink(std::move(r));
      if (!sink_status.ok()) break;
      report_progress();
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu);
    abort = true;  // wakes everyone when the sink failed; harmless otherwise
    space_cv.notify_all();
    work_cv.notify_all();
  }
  reader.join();
  for (std::thread& t : workers) t.join();
  emitter_scheduling.reset();
  if (!sink_status.ok()) return sink_status;
  report_progress();

  TT_ASSIGN_OR_RETURN(summary.corpus, corpus->Finish());
  if (stopped) {
    summary.partial = true;
    summary.stop_reason = "interrupted";
  } else if (!reader_status.ok()) {
    summary.partial = true;
    summary.stop_reason = "input failed: " + reader_status.message();
    ++summary.failed;
  }
  summary.corpus.partial = summary.partial;
  const CorpusTestResult& c = summary.corpus;
  summary.corpus_detected = c.best_key >= 0 && c.unique_tuples > 0 &&
                            c.keys[static_cast<size_t>(c.best_key)].holm_log10_p <= std::log10(config.alpha);
  summary.seconds = elapsed();
  return summary;
}

}  // namespace telltale::scan
