package io.vladapt.api;

import io.vladapt.nn.BatchDecoder;
import io.vladapt.nn.GenerationConfig;
import io.vladapt.nn.LlamaModel;
import io.vladapt.nn.Sampler;
import io.vladapt.nn.Tensors;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.PointerScope;
import org.bytedeco.pytorch.Generator;
import org.bytedeco.pytorch.LongOptional;
import org.bytedeco.pytorch.NoGradGuard;
import org.bytedeco.pytorch.Tensor;
import org.bytedeco.pytorch.global.torch;
import org.bytedeco.pytorch.global.torch.ScalarType;

/**
 * The generation thread behind a {@link VisionLanguageModel}: requests wait in a bounded queue, join
 * the running batch between decoding steps (each prefilled alone), share every step with the others
 * and leave it when done or cancelled (continuous batching over {@link BatchDecoder}'s left-padded
 * KV cache). Rows that decode on different LLMs (LaVIN's merged modalities) form separate lanes.
 * Callers never touch tensors of the batch; they read their {@link TokenStream}.
 */
final class Engine implements AutoCloseable {
    /** A request waiting to join. */
    private record Job(String prompt, Tensor pixels, Sampling sampling, TokenStream out) {}

    /** One running sequence. */
    private static final class Row {
        final Job job;
        final int promptTokens;
        final Generator generator;
        final List<Long> ids = new ArrayList<>();
        String sent = "";
        long feed;
        FinishReason finished;

        Row(Job job, int promptTokens) {
            this.job = job;
            this.promptTokens = promptTokens;
            // the row's own generator outlives the engine iteration's scope: released in finish
            this.generator = job.sampling().temperature() > 0 ? torch.createCPUGenerator(job.sampling().seed()).retainReference() : null;
        }
    }

    /** The rows decoding on one LLM. */
    private static final class Lane {
        final BatchDecoder decoder;
        List<Row> rows = new ArrayList<>();

        Lane(LlamaModel llm, BatchDecoder.Hooks hooks) {
            decoder = new BatchDecoder(llm, hooks);
        }
    }

    private final Backend backend;
    private final int maxBatch, queueCapacity;
    private final BlockingQueue<Job> queue;
    private final Map<LlamaModel, Lane> lanes = new IdentityHashMap<>();
    private final Thread thread;
    private volatile boolean closing;
    private volatile int running;

    Engine(Backend backend, int maxBatch, int queueCapacity, String name) {
        if (maxBatch < 1 || queueCapacity < 1) throw new IllegalArgumentException("max batch and queue capacity must be >= 1");
        this.backend = backend;
        this.maxBatch = maxBatch;
        this.queueCapacity = queueCapacity;
        this.queue = new ArrayBlockingQueue<>(queueCapacity);
        this.thread = new Thread(this::loop, "vladapt-engine-" + name);
        thread.setDaemon(true);
        thread.start();
    }

    /** Queues a request; throws {@link QueueFullException} when the queue is full. Takes a reference to pixels. */
    TokenStream submit(String prompt, Tensor pixels, Sampling s, boolean pieces) {
        if (closing) throw new IllegalStateException("the model is shutting down");
        if (pieces && s.whole()) {
            throw new IllegalArgumentException("beam search, min tokens and no-repeat n-grams cannot stream: ask for the whole answer"
                    + " (generate without a text consumer)");
        }
        TokenStream out = new TokenStream(pieces);
        if (s.maxTokens() == 0) {
            out.finish(new Completion("", 0, 0, FinishReason.LENGTH));
            return out;
        }
        if (pixels != null) pixels.retainReference();
        if (!queue.offer(new Job(prompt, pixels, s, out))) {
            if (pixels != null) pixels.releaseReference();
            throw new QueueFullException(queueCapacity);
        }
        return out;
    }

    /** Requests waiting to join. */
    int waiting() {
        return queue.size();
    }

    /** Sequences decoding now. */
    int running() {
        return running;
    }

    private void loop() {
        while (true) {
            int active = lanes.values().stream().mapToInt(l -> l.rows.size()).sum();
            List<Job> admitted = new ArrayList<>();
            try {
                if (active == 0) {
                    if (closing && queue.isEmpty()) break;
                    Job j = queue.poll(50, TimeUnit.MILLISECONDS);
                    if (j != null) admitted.add(j);
                }
            } catch (InterruptedException e) {
                break;
            }
            while (active + admitted.size() < maxBatch) {
                Job j = queue.poll();
                if (j == null) break;
                admitted.add(j);
            }
            try (PointerScope scope = new PointerScope(); NoGradGuard g = new NoGradGuard()) {
                iteration(admitted);
            } catch (RuntimeException | Error e) {
                failAll(e);
            }
            running = lanes.values().stream().mapToInt(l -> l.rows.size()).sum();
        }
        failAll(new IllegalStateException("the model was closed"));
    }

    /** Admit, regroup, one decoding step per lane. */
    private void iteration(List<Job> admitted) {
        Map<Lane, List<BatchDecoder.Joiner>> joining = new IdentityHashMap<>();
        Map<Lane, List<Row>> joiningRows = new IdentityHashMap<>();
        for (Job job : admitted) {
            try {
                if (job.out().cancelled()) {
                    job.out().finish(new Completion("", 0, 0, FinishReason.CANCELLED));
                    continue;
                }
                admit(job, joining, joiningRows);
            } catch (RuntimeException e) {
                job.out().fail(e);
            } finally {
                if (job.pixels() != null) job.pixels().releaseReference();
            }
        }
        for (Lane lane : lanes.values()) {
            List<BatchDecoder.Joiner> js = joining.getOrDefault(lane, List.of());
            for (Row r : lane.rows) if (r.finished == null && r.job.out().cancelled()) finish(r, FinishReason.CANCELLED);
            boolean changed = !js.isEmpty() || lane.rows.stream().anyMatch(r -> r.finished != null);
            if (!changed) continue;
            List<Row> kept = new ArrayList<>();
            List<Integer> keep = new ArrayList<>();
            for (int i = 0; i < lane.rows.size(); i++) {
                if (lane.rows.get(i).finished == null) {
                    kept.add(lane.rows.get(i));
                    keep.add(i);
                }
            }
            kept.addAll(joiningRows.getOrDefault(lane, List.of()));
            lane.decoder.regroup(keep.stream().mapToInt(Integer::intValue).toArray(), js);
            lane.rows = kept;
        }
        for (Lane lane : lanes.values()) {
            if (lane.rows.isEmpty()) continue;
            long[] feed = lane.rows.stream().mapToLong(r -> r.feed).toArray();
            try (PointerScope s = new PointerScope()) {
                Tensor logits = lane.decoder.step(feed);                                   // (B, V)
                long[] greedy = Tensors.toLongs(torch.argmax(logits, new LongOptional(-1), false));
                for (int i = 0; i < lane.rows.size(); i++) {
                    Row r = lane.rows.get(i);
                    long tok = r.generator == null ? greedy[i] : sample(r, logits.narrow(0, i, 1));
                    accept(r, tok);
                }
            }
        }
    }

    /** Prefills one job alone, samples its first token, and queues it to join its lane (unless it is already done). */
    private void admit(Job job, Map<Lane, List<BatchDecoder.Joiner>> joining, Map<Lane, List<Row>> joiningRows) {
        Backend.Prepared p = backend.prepare(job.prompt(), job.pixels());
        int ctx = backend.contextLength();
        long total = p.embeds().size(1) + (long) job.sampling().maxTokens();
        if (total > ctx) {
            throw new IllegalArgumentException("the prompt takes " + p.embeds().size(1) + " positions and max_tokens is "
                    + job.sampling().maxTokens() + ": " + total + " positions, over the model's context of " + ctx);
        }
        if (job.sampling().whole()) {
            whole(job, p);
            return;
        }
        Lane lane = lanes.computeIfAbsent(p.llm(), l -> new Lane(l, p.hooks()));
        BatchDecoder.Joiner jn = lane.decoder.prefill(p.embeds(), p.positions(), p.state(), job.sampling().maxTokens());
        Row row = new Row(job, (int) p.embeds().size(1));
        boolean ok = false;
        try {
            long tok = row.generator == null ? Tensors.toLongs(torch.argmax(jn.logits(), new LongOptional(-1), false))[0]
                    : sample(row, jn.logits());
            accept(row, tok);
            ok = row.finished == null;
        } finally {
            if (!ok) jn.close();
        }
        if (ok) {
            joining.computeIfAbsent(lane, l -> new ArrayList<>()).add(jn);
            joiningRows.computeIfAbsent(lane, l -> new ArrayList<>()).add(row);
        }
    }

    /**
     * Generates a request that does not join the shared batch (beam search, min tokens, n-gram rule)
     * to its end with the {@link io.vladapt.nn.Generator}, on this thread: the other rows wait for it.
     */
    private void whole(Job job, Backend.Prepared p) {
        Sampling s = job.sampling();
        long n = p.embeds().size(1);
        Tensor valid = Tensors.full(ScalarType.Bool, 1, 1, n);                                  // (1, P)
        BatchDecoder.Hooks hooks = p.hooks();
        Tensor[] state = p.state();
        LlamaModel.AttentionInputHook hook = hooks == null || state == null ? null : hooks.hook(state);
        io.vladapt.nn.Generator.RowHook rowHook = hook == null ? null : rows -> {
            Tensor[] picked = new Tensor[state.length];                                        // per layer (B', ...)
            for (int i = 0; i < state.length; i++) picked[i] = state[i].index_select(0, Tensors.onDeviceOf(rows, state[i]));
            return hooks.hook(picked);
        };
        GenerationConfig g = s.beams() > 1 ? s.generation() : new GenerationConfig(s.maxTokens(), s.temperature(), s.topK(), s.topP(), s.seed(),
                s.stop(), true, 1, s.lengthPenalty(), s.minTokens(), s.noRepeatNgram(), GenerationConfig.EarlyStopping.FALSE);
        long[] ids = new io.vladapt.nn.Generator(p.llm(), backend::decode)
                .generate(new io.vladapt.nn.Generator.Prefill(p.embeds(), valid, p.positions(), hook, rowHook), g, null).get(0);
        String text = backend.decode(ids);
        int cut = StopStrings.firstMatch(text, s.stop());
        if (cut >= 0) text = text.substring(0, cut);
        FinishReason why = cut >= 0 || ids.length < s.maxTokens() ? FinishReason.STOP : FinishReason.LENGTH;
        job.out().finish(new Completion(text, (int) n, ids.length, why));
    }

    private static long sample(Row r, Tensor logits) {
        return Tensors.toLongs(Sampler.next(logits, r.job.sampling().generation(), r.generator))[0];
    }

    /** Records a chosen token: EOS, stop strings and max tokens end the row; new text goes to the stream. */
    private void accept(Row r, long tok) {
        Sampling s = r.job.sampling();
        if (backend.eosIds().contains((int) tok)) {
            finish(r, FinishReason.STOP);
            return;
        }
        r.ids.add(tok);
        r.feed = tok;
        if (!r.job.out().wantsPieces() && s.stop().isEmpty()) {                            // nothing to look at before the end
            if (r.ids.size() >= s.maxTokens()) finish(r, FinishReason.LENGTH);
            return;
        }
        String text = backend.decode(ids(r));
        int cut = StopStrings.firstMatch(text, s.stop());
        if (cut >= 0) {
            finish(r, FinishReason.STOP);
            return;
        }
        String safe = text.substring(0, text.length() - StopStrings.heldBack(text, s.stop()));
        boolean sent = !safe.endsWith("\uFFFD") && send(r, safe);                          // an incomplete UTF-8 sequence waits
        if (r.ids.size() >= s.maxTokens()) finish(r, FinishReason.LENGTH);
        else if (!sent) r.job.out().tick();
    }

    private static boolean send(Row r, String text) {
        if (text.length() <= r.sent.length() || !text.startsWith(r.sent)) return false;
        r.job.out().piece(text.substring(r.sent.length()));
        r.sent = text;
        return true;
    }

    private void finish(Row r, FinishReason why) {
        if (r.finished != null) return;
        r.finished = why;
        String text = backend.decode(ids(r));
        int cut = StopStrings.firstMatch(text, r.job.sampling().stop());
        if (cut >= 0) text = text.substring(0, cut);
        if (why != FinishReason.CANCELLED) send(r, text);
        if (r.generator != null) r.generator.releaseReference();
        r.job.out().finish(new Completion(text, r.promptTokens, r.ids.size(), why));
    }

    private static long[] ids(Row r) {
        return r.ids.stream().mapToLong(Long::longValue).toArray();
    }

    /** After a failure inside a step: every running and waiting request gets the error; the lanes start empty. */
    private void failAll(Throwable e) {
        RuntimeException err = e instanceof RuntimeException re ? re : new IllegalStateException("generation failed: " + e, e);
        for (Lane lane : lanes.values()) {
            for (Row r : lane.rows) {
                if (r.finished != null) continue;
                r.finished = FinishReason.CANCELLED;
                if (r.generator != null) r.generator.releaseReference();
                r.job.out().fail(err);
            }
            lane.rows = new ArrayList<>();
            lane.decoder.close();
        }
        if (closing) {
            Job j;
            while ((j = queue.poll()) != null) {
                j.out().fail(err);
                if (j.pixels() != null) j.pixels().releaseReference();
            }
        }
    }

    /**
     * Stops taking requests, lets the running and waiting ones finish (at most {@code graceMillis}),
     * then stops the thread and frees the batch.
     */
    void shutdown(long graceMillis) {
        closing = true;
        try {
            thread.join(Math.max(1, graceMillis));
            if (thread.isAlive()) {
                thread.interrupt();
                thread.join();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        shutdown(60_000);
    }
}
